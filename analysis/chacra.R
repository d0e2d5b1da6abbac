# analysis/chacra.R: reads a chacra output file (HDF5) into R data frames with hdf5r (Debian: r-cran-hdf5r).
#
#   source("analysis/chacra.R")
#   f <- chacra_open("out.h5")
#   chacra_arms(f); chacra_periods(f); chacra_replicates(f)
#   agg <- chacra_aggregates(f, c("poor", "income_monetary_pen"))       # arm x replicate x period
#   p <- chacra_panel(f, "both", 0, c("poor", "juntos_status"))          # household x period, one arm/replicate
#   hh <- chacra_households(f, 0)                                        # the population at month 0
#   cmp <- chacra_comparison(f)                                          # the /comparison table (NULL if none)
#   f$close_all()
#
# The layout is docs/output.md's. hdf5r presents arrays in R's column-major order, so a panel dataset
# [periods, households] of the file is a households x periods matrix here; these functions undo that and
# return rows in the file's order (arm, replicate, period, household; the household fastest). A variable with
# one value per label (tech_state, herd) becomes one column per label, `tech_state.vegetable_garden`. Coded
# variables (region, juntos_status, hw_stage, tech_state...) become factors whose levels are the file's own
# `flag_meanings`, matched to the codes of `flag_values`; `labels = FALSE` keeps the codes. `arm` and
# `period` are factors in scenario and time order; `household` is the row of the replicate's household table
# (0-based, as in the file and in `chacra export`). Units and descriptions are in attr(frame, "units") and
# attr(frame, "descriptions").

suppressPackageStartupMessages(library(hdf5r))

# Opens a chacra output file for reading; stops with a clear message when it is missing or not one.
chacra_open <- function(path) {
  if (!file.exists(path)) stop(sprintf("%s: no such file", path), call. = FALSE)
  f <- tryCatch(H5File$new(path, mode = "r"),
                error = function(e) stop(sprintf("%s: not an HDF5 file (%s)", path, conditionMessage(e)),
                                         call. = FALSE))
  missing <- setdiff(c("arm_names", "periods", "arms"), names(f))
  if (length(missing)) {
    f$close_all()
    stop(sprintf("%s: not a chacra output file (no %s)", path, paste(missing, collapse = ", ")), call. = FALSE)
  }
  f
}

# Arms in scenario order.
chacra_arms <- function(f) f[["arm_names"]][]

# Period labels in time order: "2017" (yearly), "2017Q1", "2017-01".
chacra_periods <- function(f) f[["periods"]][]

# Replicate numbers (0-based) of the file, in increasing order.
chacra_replicates <- function(f) {
  groups <- names(f[[paste0("arms/", chacra_arms(f)[1])]])
  sort(as.integer(sub("^replicate_", "", grep("^replicate_[0-9]+$", groups, value = TRUE))))
}

.chacra_check <- function(what, asked, valid) {
  bad <- setdiff(asked, valid)
  if (length(bad)) stop(sprintf("unknown %s %s; valid: %s", what, paste(bad, collapse = ", "),
                                paste(valid, collapse = ", ")), call. = FALSE)
}

.chacra_attr <- function(ds, name) if (name %in% h5attr_names(ds)) h5attr(ds, name) else NULL

# Codes as numbers, or as factors when the dataset has flag_values/flag_meanings and labels is TRUE.
.chacra_decode <- function(x, ds, labels) {
  x <- if (is.integer(x) || is.double(x)) x else as.numeric(x)  # integer64 (64-bit columns) as double
  codes <- .chacra_attr(ds, "flag_values")
  meanings <- .chacra_attr(ds, "flag_meanings")
  if (!labels || is.null(codes) || is.null(meanings)) return(x)
  factor(x, levels = as.numeric(codes), labels = strsplit(meanings, " ", fixed = TRUE)[[1]])
}

# A dataset's values as a list of columns, one row per element of the file's leading dimensions: `values`
# is what hdf5r returned (dimensions reversed), `width` the length of the file's last dimension when the
# dataset has one value per label (0 otherwise).
.chacra_columns <- function(name, ds, values, width, labels) {
  if (width == 0) {
    out <- list(.chacra_decode(as.vector(values), ds, labels))
    names(out) <- name
    return(out)
  }
  m <- matrix(as.vector(values), nrow = width)  # the label varies fastest in R's order
  tags <- .chacra_attr(ds, "labels")
  tags <- if (is.null(tags)) as.character(seq_len(width) - 1) else strsplit(tags, ",", fixed = TRUE)[[1]]
  out <- lapply(seq_len(width), function(k) .chacra_decode(m[k, ], ds, labels))
  names(out) <- paste(name, tags, sep = ".")
  out
}

.chacra_frame <- function(keys, columns, units, descriptions) {
  df <- as.data.frame(c(keys, columns), stringsAsFactors = FALSE, optional = TRUE)
  attr(df, "units") <- units
  attr(df, "descriptions") <- descriptions
  df
}

.chacra_read_group <- function(g, variables, leading, labels, select = NULL) {
  valid <- names(g)
  if (is.null(variables)) variables <- valid
  .chacra_check("variable", variables, valid)
  columns <- list(); units <- c(); descriptions <- c()
  for (v in variables) {
    ds <- g[[v]]
    dims <- rev(ds$dims)  # the file's order
    width <- if (length(dims) > leading) dims[length(dims)] else 0
    values <- if (is.null(select)) ds$read() else select(ds, length(dims))
    cols <- .chacra_columns(v, ds, values, width, labels)
    columns <- c(columns, cols)
    unit <- .chacra_attr(ds, "unit"); desc <- .chacra_attr(ds, "description")
    units[names(cols)] <- if (is.null(unit)) NA_character_ else unit
    descriptions[names(cols)] <- if (is.null(desc)) NA_character_ else desc
  }
  list(columns = columns, units = units, descriptions = descriptions)
}

# The household means of every arm, replicate and period (`aggregates/`): one row per arm x replicate x period.
chacra_aggregates <- function(f, variables = NULL, arms = NULL, replicates = NULL) {
  all_arms <- chacra_arms(f); periods <- chacra_periods(f)
  if (is.null(arms)) arms <- all_arms
  if (is.null(replicates)) replicates <- chacra_replicates(f)
  .chacra_check("arm", arms, all_arms)
  .chacra_check("replicate", replicates, chacra_replicates(f))
  parts <- list()
  for (a in arms) for (r in replicates) {
    g <- f[[sprintf("arms/%s/replicate_%d/aggregates", a, r)]]
    read <- .chacra_read_group(g, variables, 1, labels = FALSE)
    keys <- list(arm = factor(rep(a, length(periods)), levels = all_arms),
                 replicate = rep(as.integer(r), length(periods)),
                 period = factor(periods, levels = periods))
    parts[[length(parts) + 1]] <- .chacra_frame(keys, read$columns, read$units, read$descriptions)
  }
  out <- do.call(rbind, parts)
  rownames(out) <- NULL
  attr(out, "units") <- attr(parts[[1]], "units"); attr(out, "descriptions") <- attr(parts[[1]], "descriptions")
  out
}

# The month-0 population table of a replicate: "households" (default), "centres" or "districts"; one row per
# entity, `household` (`centre`, `district`) its 0-based row.
chacra_households <- function(f, replicate = 0, columns = NULL, table = "households", labels = TRUE) {
  .chacra_check("replicate", replicate, chacra_replicates(f))
  .chacra_check("table", table, c("households", "centres", "districts"))
  g <- f[[sprintf("population/replicate_%d/%s", replicate, table)]]
  read <- .chacra_read_group(g, columns, 1, labels)
  n <- length(read$columns[[1]])
  key <- list(0:(n - 1)); names(key) <- sub("s$", "", sub("centres", "centre", table))
  .chacra_frame(c(list(replicate = rep(as.integer(replicate), n)), key), read$columns, read$units,
                read$descriptions)
}

# The household panel of one arm and replicate (`panel/`), long: one row per period x household (the
# household fastest), columns `arm, replicate, period, household`, with `ids` also the household's
# `centre, district, region` (from the population tables), then one column per variable. `periods` selects
# labels ("2019") or positions (1-based; only those periods are read from the file).
chacra_panel <- function(f, arm, replicate = 0, variables = NULL, periods = NULL, labels = TRUE, ids = TRUE) {
  all_arms <- chacra_arms(f); all_periods <- chacra_periods(f)
  .chacra_check("arm", arm, all_arms)
  .chacra_check("replicate", replicate, chacra_replicates(f))
  if (is.null(periods)) periods <- seq_along(all_periods)
  if (is.character(periods)) {
    .chacra_check("period", periods, all_periods)
    periods <- match(periods, all_periods)
  }
  if (any(periods < 1 | periods > length(all_periods))) stop("period positions run from 1 to ", length(all_periods))
  g <- f[[sprintf("arms/%s/replicate_%d/panel", arm, replicate)]]
  whole <- identical(as.integer(periods), seq_along(all_periods))
  select <- if (whole) NULL else function(ds, rank) if (rank == 2) ds[, periods, drop = FALSE] else ds[, , periods, drop = FALSE]
  if (is.null(variables)) variables <- names(g)
  read <- .chacra_read_group(g, variables, 2, labels, select)
  n_hh <- rev(g[[variables[1]]]$dims)[2]
  np <- length(periods)
  keys <- list(arm = factor(rep(arm, n_hh * np), levels = all_arms),
               replicate = rep(as.integer(replicate), n_hh * np),
               period = factor(rep(all_periods[periods], each = n_hh), levels = all_periods),
               household = rep(0:(n_hh - 1), times = np))
  if (ids) {
    hh <- chacra_households(f, replicate, c("centre", "district"))
    dist <- chacra_households(f, replicate, "region", table = "districts", labels = labels)
    keys$centre <- rep(hh$centre, times = np)
    keys$district <- rep(hh$district, times = np)
    keys$region <- rep(dist$region[hh$district + 1], times = np)
  }
  .chacra_frame(keys, read$columns, read$units, read$descriptions)
}

# The /comparison table: one row per arm x outcome x subgroup x statistic, the columns of
# `chacra compare --format json` (NA where an effect is undefined); the group's attributes (reference_arm,
# final_year, horizon...) and notes are attributes of the frame. NULL when the file has no comparison.
chacra_comparison <- function(f) {
  if (!("comparison" %in% names(f)) || !("arm" %in% names(f[["comparison"]]))) return(NULL)
  g <- f[["comparison"]]
  n <- g[["arm"]]$dims
  order <- c("arm", "reference", "outcome", "subgroup", "statistic", "mean_effect", "ci_low", "ci_high",
             "n_replicates", "unit", "interval", "arm_value", "reference_value")
  present <- names(g)
  cols <- c(intersect(order, present), sort(setdiff(present, order)))
  data <- list()
  for (k in cols) {
    ds <- g[[k]]
    if (length(ds$dims) != 1 || ds$dims != n) next  # per-file lists (arms, notes)
    x <- ds$read()
    data[[k]] <- if (is.character(x)) x else as.numeric(x)
  }
  df <- as.data.frame(data, stringsAsFactors = FALSE)
  df$n_replicates <- as.integer(df$n_replicates)
  for (a in h5attr_names(g)) attr(df, a) <- h5attr(g, a)
  # An empty string dataset is not read: hdf5r 1.3 fails on it (H5Dvlen_reclaim).
  if ("notes" %in% present) attr(df, "notes") <- if (g[["notes"]]$dims == 0) character(0) else g[["notes"]]$read()
  df
}
