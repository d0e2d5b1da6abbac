#!/usr/bin/env Rscript
# analysis/example.R: a first look at a chacra run from R: the key effects of each arm and poverty by arm and year.
#
#   Rscript analysis/example.R OUT.h5 [DIR]
#
# Prints the comparison's key effects (final year, all households, 95% intervals over replicates) and the
# poverty headcount (% of persons) of each arm in each period, mean over replicates; with DIR, also writes
# both tables there as effects.csv and poverty.csv at full precision. Needs hdf5r (Debian: r-cran-hdf5r).

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 1 || length(args) > 2) {
  message("usage: Rscript analysis/example.R OUT.h5 [DIR]")
  quit(status = 2)
}
# chacra.R lies beside this script, wherever it is started from.
here <- dirname(normalizePath(sub("^--file=", "", grep("^--file=", commandArgs(FALSE), value = TRUE)[1])))
source(file.path(here, "chacra.R"))

f <- chacra_open(args[1])
arms <- chacra_arms(f)

# Key effects: arm minus the reference arm on the same households (common random numbers).
cmp <- chacra_comparison(f)
if (is.null(cmp)) {
  message(args[1], ": no /comparison table (a run with output.panel: false); effects skipped")
  effects <- NULL
} else {
  key <- c("income_monetary_pen", "consumption_pen", "poverty_headcount")
  effects <- cmp[cmp$subgroup == "all" & cmp$statistic == "final_year" & cmp$outcome %in% key,
                 c("arm", "outcome", "mean_effect", "ci_low", "ci_high", "unit")]
  cat(sprintf("Effects against %s, final year %s (mean over %d replicates [95%% interval]):\n",
              attr(cmp, "reference_arm"), attr(cmp, "final_year"), attr(cmp, "replicates")))
  # One row per arm; poverty in percentage points of persons, money in PEN per household per year.
  scale <- ifelse(effects$outcome == "poverty_headcount", 100, 1)
  cell <- sprintf("%.1f [%.1f, %.1f]", scale * effects$mean_effect, scale * effects$ci_low, scale * effects$ci_high)
  table <- reshape(data.frame(arm = effects$arm, outcome = effects$outcome, cell = cell), idvar = "arm",
                   timevar = "outcome", direction = "wide")
  names(table) <- c("arm", "income (PEN)", "consumption (PEN)", "poverty (pp)")[
    match(sub("^cell\\.", "", names(table)), c("arm", key))]
  # Wide enough that an arm's row is never wrapped (long arm names and intervals pass R's default 80).
  old <- options(width = 200)
  print(table, row.names = FALSE, right = FALSE)
  options(old)
}

# Poverty headcount of persons: each household counted with its members in that period, as INEI measures it
# and as the comparison's poverty_headcount does.
rows <- list()
for (a in arms) for (r in chacra_replicates(f)) {
  p <- chacra_panel(f, a, r, c("poor", "household_size"), ids = FALSE)
  share <- tapply(p$poor * p$household_size, p$period, sum) / tapply(p$household_size, p$period, sum)
  rows[[length(rows) + 1]] <- data.frame(arm = a, replicate = r, period = names(share), poor = as.vector(share))
}
f$close_all()
poverty <- aggregate(poor ~ arm + period, data = do.call(rbind, rows), FUN = mean)
poverty$arm <- factor(poverty$arm, levels = arms)
poverty <- poverty[order(poverty$arm, poverty$period), ]
cat("\nPoverty headcount (% of persons), mean over replicates:\n")
print(round(100 * xtabs(poor ~ arm + period, data = poverty), 1))

if (length(args) == 2) {
  dir.create(args[2], showWarnings = FALSE, recursive = TRUE)
  if (!is.null(effects)) write.csv(effects, file.path(args[2], "effects.csv"), row.names = FALSE)
  write.csv(poverty, file.path(args[2], "poverty.csv"), row.names = FALSE)
}
