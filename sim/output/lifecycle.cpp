// The output file's life on disk (see sim/output/lifecycle.hpp). Every file chacra writes is created with
// O_EXCL (no link is followed, nothing that exists is truncated) and locked with flock for as long as it is
// written; HDF5's own lock is switched off for these files, since a second lock on the same file from this
// process would conflict with ours.
#include "sim/output/lifecycle.hpp"

#include "sim/output/checksum.hpp"
#include "sim/output/layout.hpp"
#include "sim/output/reader.hpp"
#include "sim/output/writer.hpp"
#include "sim/scenario.hpp"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <cstring>
#include <optional>
#include <set>

namespace chacra::output {

// A file held open and locked (flock, exclusive) by this process, at a known path.
class LockedFile {
 public:
  LockedFile(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  ~LockedFile() {
    if (fd_ >= 0) ::close(fd_);
  }
  LockedFile(const LockedFile&) = delete;
  LockedFile& operator=(const LockedFile&) = delete;
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  void moved_to(std::string path) { path_ = std::move(path); }
  // Whether `path` (not followed) is this very file.
  bool still_at(const std::string& path) const {
    struct stat mine {}, there {};
    return ::fstat(fd_, &mine) == 0 && ::lstat(path.c_str(), &there) == 0 && mine.st_dev == there.st_dev &&
           mine.st_ino == there.st_ino;
  }
  // Unlinks the file, only if its path still names it.
  bool remove() { return still_at(path_) && ::unlink(path_.c_str()) == 0; }

 private:
  int fd_;
  std::string path_;
};

namespace {

constexpr char kHdf5Signature[8] = {'\x89', 'H', 'D', 'F', '\r', '\n', '\x1a', '\n'};
constexpr const char* kResumeSuffix = ".partial.new";

std::string mib(std::uint64_t bytes) {
  if (bytes < (10u << 20)) return std::to_string((bytes + 1023) >> 10) + " KiB";
  return std::to_string((bytes + (1u << 20) - 1) >> 20) + " MiB";
}

// Bytes an unprivileged writer may still use in `dir`'s file system (nothing when it cannot be known).
std::optional<std::uint64_t> free_bytes(const std::string& dir) {
  struct statvfs vfs {};
  if (::statvfs(dir.c_str(), &vfs) != 0) return std::nullopt;
  return static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
}

// The file-size limit (ulimit -f) in bytes (nothing when unlimited).
std::optional<std::uint64_t> file_size_limit() {
  struct rlimit limit {};
  if (::getrlimit(RLIMIT_FSIZE, &limit) != 0 || limit.rlim_cur == RLIM_INFINITY) return std::nullopt;
  return static_cast<std::uint64_t>(limit.rlim_cur);
}

std::string kind_name(mode_t mode) {
  if (S_ISLNK(mode)) return "a symbolic link";
  if (S_ISDIR(mode)) return "a directory";
  if (S_ISCHR(mode)) return "a character device";
  if (S_ISBLK(mode)) return "a block device";
  if (S_ISFIFO(mode)) return "a FIFO (named pipe)";
  if (S_ISSOCK(mode)) return "a socket";
  if (S_ISREG(mode)) return "a regular file";
  return "not a regular file";
}

// The directory holding `path` ("." for a bare name) and the name in it.
std::string parent_of(const std::string& path) {
  const auto slash = path.rfind('/');
  if (slash == std::string::npos) return ".";
  return slash == 0 ? "/" : path.substr(0, slash);
}
std::string name_of(const std::string& path) {
  const auto slash = path.rfind('/');
  return slash == std::string::npos ? path : path.substr(slash + 1);
}

// An empty file, or one holding HDF5's signature where a superblock may start (0, 512, 1024, 2048...): what an
// earlier chacra output or partial file looks like. Anything else was not written by chacra.
bool hdf5_or_empty(int fd) {
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) return false;
  if (st.st_size == 0) return true;
  for (off_t at = 0; at + 8 <= st.st_size; at = at == 0 ? 512 : at * 2) {
    char buf[8];
    if (::pread(fd, buf, sizeof buf, at) != static_cast<ssize_t>(sizeof buf)) return false;
    if (std::memcmp(buf, kHdf5Signature, sizeof buf) == 0) return true;
  }
  return false;
}

// Opens an existing regular file to inspect it, never through a link and without blocking on a FIFO; -1 when
// it cannot be (errno says why).
int open_to_inspect(const std::string& path) {
  return ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

// Whether another open file (another process's) holds a lock on fd's file; takes no lock itself.
bool locked_elsewhere(int fd) {
  if (::flock(fd, LOCK_SH | LOCK_NB) == 0) {
    ::flock(fd, LOCK_UN);
    return false;
  }
  return errno == EWOULDBLOCK;
}

std::string busy_message(const std::string& output, const std::string& held) {
  return "another chacra process is writing " + output + " (" + held +
         " is locked); wait for it to finish, or choose another output with -o";
}

// An existing file chacra may replace or reuse, locked: a regular file (a link is not followed), held by no
// other process.
std::unique_ptr<LockedFile> take(const std::string& path, const std::string& output) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0 && !S_ISREG(st.st_mode))
    throw OutputRefused(path + " is " + kind_name(st.st_mode) +
                        "; chacra never writes through it or replaces it: remove it or choose another output");
  const int fd = open_to_inspect(path);
  if (fd < 0) {
    const int err = errno;
    if (err == ELOOP) throw OutputRefused(path + " is a symbolic link; chacra never writes through it or replaces it");
    throw OutputIoError("cannot open " + path + ": " + system_reason(err));
  }
  auto file = std::make_unique<LockedFile>(fd, path);
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
    throw OutputRefused(path + " is not a regular file; chacra never replaces it");
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
    const int err = errno;
    if (err == EWOULDBLOCK) throw OutputBusy(busy_message(output, path));
    throw OutputIoError("cannot lock " + path + ": " + system_reason(err));
  }
  if (!file->still_at(path)) throw OutputBusy(busy_message(output, path));
  return file;
}

// File access for the files chacra locks itself: HDF5's own lock off (see the top of this file).
h5::Handle unlocked_access() {
  h5::Handle fapl(H5Pcreate(H5P_FILE_ACCESS));
  H5Pset_file_locking(fapl, false, true);
  return fapl;
}

// Whether HDF5's handle `file` is the file `locked` holds (nothing replaced it between the two opens).
void check_same(hid_t file, const LockedFile& locked, const std::string& output) {
  void* handle = nullptr;
  struct stat a {}, b {};
  if (H5Fget_vfd_handle(file, H5P_DEFAULT, &handle) < 0 || handle == nullptr ||
      ::fstat(*static_cast<int*>(handle), &a) != 0 || ::fstat(locked.fd(), &b) != 0 || a.st_dev != b.st_dev ||
      a.st_ino != b.st_ino)
    throw OutputBusy(locked.path() + " was replaced by another process while chacra opened it; is another chacra "
                                     "run writing " + output + "?");
}

// A new file at `path`: created by HDF5 exclusively (O_CREAT|O_EXCL: a link planted there is not followed and
// nothing that exists is truncated), then locked.
std::pair<h5::Handle, std::unique_ptr<LockedFile>> create_exclusive(const std::string& path, const std::string& output) {
  const h5::Handle fapl = unlocked_access();
  const hid_t id = H5Fcreate(path.c_str(), H5F_ACC_EXCL, H5P_DEFAULT, fapl);
  if (id < 0) {
    // HDF5 does not say why; the same exclusive create does.
    const int probe = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    const int err = errno;
    if (probe >= 0) {
      ::close(probe);
      ::unlink(path.c_str());
      throw h5::Error("HDF5: cannot create file " + path);
    }
    if (err == EEXIST)
      throw OutputBusy(path + " was created by another process as chacra was about to; is another chacra run "
                              "writing " + output + "?");
    throw OutputIoError("cannot create " + path + ": " + system_reason(err));
  }
  h5::Handle file(id);
  const int fd = ::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0) throw OutputBusy(path + " was removed by another process as chacra created it");
  auto locked = std::make_unique<LockedFile>(fd, path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0) throw OutputBusy(busy_message(output, path));
  check_same(file, *locked, output);
  return {std::move(file), std::move(locked)};
}

// The HDF5 file `locked` holds, opened read-only.
h5::Handle open_locked_readonly(const LockedFile& locked, const std::string& output) {
  const h5::Handle fapl = unlocked_access();
  const hid_t id = H5Fopen(locked.path().c_str(), H5F_ACC_RDONLY, fapl);
  if (id < 0) return h5::Handle();
  h5::Handle file(id);
  check_same(file, locked, output);
  return file;
}

// Why a partial file cannot be resumed ("" when it can): not chacra's, or another scenario's (ConfigError).
std::string resumable(hid_t file, const std::string& path, const std::string& scenario_yaml) {
  if (!h5::exists(file, layout::kProvenance) || !h5::exists(file, layout::kArmNames) ||
      !h5::has_attr(h5::open_group(file, layout::kProvenance), "chacra_version"))
    return path + " is an HDF5 file that chacra did not write (no /provenance); it is left as it is: remove it or "
                  "choose another output";
  if (!scenario_yaml.empty() && stored_scenario_yaml(file) != scenario_yaml)
    throw ConfigError({ConfigIssue{path, 0, 0, "--resume",
                                   "the partial output was produced by a different scenario or settings",
                                   "run the same scenario and options, or use --force without --resume to start "
                                   "over"}});
  return "";
}

std::string cannot_read_message(const std::string& path) {
  return "cannot resume from " + path +
         ": it cannot be read as an HDF5 file (damaged, or not written by chacra); it is left as it is: remove it, "
         "or run with --force instead of --resume to start over";
}

// What a stale file at `path` is when the output is checked: refused unless chacra may replace it.
void check_replaceable(const std::string& path, int fd) {
  if (!hdf5_or_empty(fd))
    throw OutputRefused(path + " is not a partial output chacra wrote (not an HDF5 file); it is not replaced, even "
                               "with --force: remove it or choose another output");
}

// The units and populations of `file` whose checksums verify, as (arm, replicate) pairs and replicates.
struct Verified {
  std::set<std::uint32_t> populations;
  std::set<std::pair<std::string, std::uint32_t>> units;
};
Verified verify(hid_t file, const std::function<void(const std::string&)>& note, const std::string& name) {
  Verified v;
  // A run killed after its header and before its first unit has no /arms yet: nothing to keep.
  if (!h5::exists(file, layout::kArms) || !h5::exists(file, layout::kPeriods)) return v;
  const Reader in(file);
  std::set<std::uint32_t> bad;
  for (std::uint32_t r : in.population_replicates()) {
    const SealState s = check_seal(file, layout::population(r));
    if (s == SealState::valid) {
      v.populations.insert(r);
    } else {
      bad.insert(r);
      if (note)
        note("the population of replicate " + std::to_string(r) + " in " + name +
             (s == SealState::missing ? " has no checksum (an earlier chacra wrote it)" : " fails its checksum (damaged on disk?)") +
             ": the replicate is run again");
    }
  }
  for (const auto& arm : in.arms()) {
    for (std::uint32_t r : in.replicates(arm)) {
      if (!unit_complete(file, arm, r) || bad.count(r) || !v.populations.count(r)) continue;
      const SealState s = check_seal(file, layout::unit(arm, r));
      if (s == SealState::valid) {
        v.units.insert({arm, r});
      } else if (note) {
        note("arm '" + arm + "', replicate " + std::to_string(r) + " in " + name +
             (s == SealState::missing ? " has no checksum (an earlier chacra wrote it)" : " fails its checksum (damaged on disk?)") +
             ": it is run again");
      }
    }
  }
  return v;
}

}  // namespace

std::string system_reason(int err) { return std::strerror(err); }

std::string path_kind(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return "";
  return kind_name(st.st_mode);
}

bool remove_leftover(const std::string& path) {
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) return errno == ENOENT;
  if (!S_ISREG(st.st_mode)) return false;
  const int fd = open_to_inspect(path);
  if (fd < 0) return false;
  LockedFile file(fd, path);
  if (::flock(fd, LOCK_EX | LOCK_NB) != 0 || !hdf5_or_empty(fd)) return false;
  return file.remove();
}

std::string partial_path(const std::string& output) { return output + ".partial"; }
std::string resume_path(const std::string& output) { return output + kResumeSuffix; }

std::vector<std::string> check_output(const OutputRequest& r) {
  const std::string& out = r.path;
  std::vector<std::string> notes;
  if (out.empty()) throw OutputRefused("the output path is empty; give a file name with -o");
  const std::string dir = parent_of(out), name = name_of(out);
  if (name.empty() || name == "." || name == "..")
    throw OutputRefused("output " + out + " names a directory; give a file name (-o DIR/OUT.h5)");
  // Long enough for the longest name chacra gives the file while writing it.
  const std::size_t suffix = std::strlen(kResumeSuffix);
  if (out.size() + suffix >= PATH_MAX)
    throw OutputRefused("the output path is too long (" + std::to_string(out.size()) + " bytes; at most " +
                        std::to_string(PATH_MAX - 1 - suffix) + ", with the " + kResumeSuffix +
                        " chacra adds while it writes)");
  struct stat st {};
  if (::stat(dir.c_str(), &st) != 0) {
    const int err = errno;
    if (err == ENOENT) throw OutputRefused("cannot write output " + out + ": the directory " + dir + " does not exist");
    if (err == ENOTDIR) throw OutputRefused("cannot write output " + out + ": " + dir + " is not a directory");
    throw OutputIoError("cannot write output " + out + ": the directory " + dir + " cannot be used: " + system_reason(err));
  }
  if (!S_ISDIR(st.st_mode)) throw OutputRefused("cannot write output " + out + ": " + dir + " is not a directory");
  const long name_max = ::pathconf(dir.c_str(), _PC_NAME_MAX);
  if (name_max > 0 && name.size() + suffix > static_cast<std::size_t>(name_max))
    throw OutputRefused("the output file name is too long for the file system (" + std::to_string(name.size()) +
                        " bytes; at most " + std::to_string(static_cast<std::size_t>(name_max) - suffix) +
                        ", with the " + kResumeSuffix + " chacra adds while it writes)");
  {
    // A file created and removed at once: whatever keeps chacra from creating files there (permissions, a
    // read-only file system, /proc, no inodes left) is found now, not after the run.
    std::string probe = (dir == "/" ? "" : dir) + "/.chacra_probe_XXXXXX";
    const int fd = ::mkstemp(probe.data());
    if (fd < 0)
      throw OutputIoError("cannot write output " + out + ": cannot create files in " + dir + ": " +
                          system_reason(errno));
    ::close(fd);
    ::unlink(probe.c_str());
  }

  // The output itself.
  if (::lstat(out.c_str(), &st) == 0) {
    struct stat in {};
    for (const auto& input : r.inputs)
      if (!input.empty() && ::stat(input.c_str(), &in) == 0 && in.st_dev == st.st_dev && in.st_ino == st.st_ino)
        throw OutputRefused("output " + out + " is the scenario " + input + " itself; choose another output with -o");
    if (!r.force)
      throw OutputExists("output " + out + " already exists; use --force to overwrite it or -o to choose another");
    if (!S_ISREG(st.st_mode))
      throw OutputRefused("output " + out + " is " + kind_name(st.st_mode) + "; chacra writes only regular files and " +
                          "never replaces " + kind_name(st.st_mode) + ", even with --force");
    const int fd = open_to_inspect(out);
    const bool ours = fd >= 0 && hdf5_or_empty(fd);
    if (fd >= 0) ::close(fd);
    if (!ours)
      throw OutputRefused("output " + out + " is not an HDF5 file; --force replaces only an earlier output (an HDF5 "
                          "file) or an empty file: remove it yourself or choose another output");
  } else if (errno != ENOENT) {
    throw OutputRefused("cannot write output " + out + ": " + system_reason(errno));
  }

  // What an earlier run left.
  const std::string partial = partial_path(out), next = resume_path(out);
  bool partial_found = false;
  for (const std::string& left : {partial, next}) {
    if (::lstat(left.c_str(), &st) != 0) continue;
    if (!S_ISREG(st.st_mode))
      throw OutputRefused(left + " is " + kind_name(st.st_mode) +
                          "; chacra never writes through it or replaces it: remove it or choose another output");
    const int fd = open_to_inspect(left);
    if (fd < 0) throw OutputRefused("cannot open " + left + ": " + system_reason(errno));
    LockedFile file(fd, left);  // closed on leaving
    if (locked_elsewhere(fd)) throw OutputBusy(busy_message(out, left));
    if (left == partial) partial_found = true;
    if (r.resume && left == partial) {
      h5::Handle h(H5Fopen(left.c_str(), H5F_ACC_RDONLY, unlocked_access()));
      if (!h.valid()) throw OutputRefused(cannot_read_message(left));
      if (const std::string why = resumable(h, left, r.scenario_yaml); !why.empty()) throw OutputRefused(why);
    } else if (r.resume) {
      if (!partial_found && ::lstat(partial.c_str(), &st) != 0)
        throw OutputRefused(left + " was left by a --resume that did not finish, but " + partial +
                            " is missing: rename " + left + " to " + partial + " to resume from it, or use --force "
                            "without --resume to start over");
      check_replaceable(left, fd);
    } else {
      if (!r.force && !r.replace_stale_partial)
        throw OutputExists(left + " holds the progress of an interrupted run; run the same command with --resume to "
                                  "continue it, or with --force to start over");
      check_replaceable(left, fd);
    }
  }

  // Room for the output.
  if (r.min_bytes > 0) {
    if (const auto free = free_bytes(dir)) {
      if (r.min_bytes > *free)
        throw OutputRefused("the output needs at least about " + mib(r.min_bytes) + ", but only " + mib(*free) +
                            " are free in " + dir + "; free some space, choose another directory with -o, or reduce "
                            "the panel (output.variables, output.frequency, output.panel)");
      if (r.typical_bytes > *free)
        notes.push_back("the output may not fit: it typically takes about " + mib(r.typical_bytes) + " and " +
                        mib(*free) + " are free in " + dir);
    }
    if (const auto limit = file_size_limit(); limit && r.min_bytes > *limit)
      throw OutputRefused("the output needs at least about " + mib(r.min_bytes) + ", more than the file-size limit "
                          "(ulimit -f) of " + mib(*limit) + "; raise the limit or reduce the panel");
  }
  return notes;
}

// ---- OutputFile ----

OutputFile::OutputFile(OutputRequest request)
    : request_(std::move(request)), partial_(output::partial_path(request_.path)), next_(resume_path(request_.path)) {
  OutputRequest checks = request_;
  checks.typical_bytes = 0;
  check_output(checks);
  struct stat st {};
  if (request_.resume && ::lstat(partial_.c_str(), &st) == 0) resume_from_partial();
  else create_fresh();
}

OutputFile::~OutputFile() {
  if (committed_) return;
  close_file();
  if (keep_) {
    // An interrupted resume: what it wrote holds the progress it resumed and more.
    if (resumed_ && target_ && source_ && target_->still_at(next_) && source_->still_at(partial_))
      ::rename(next_.c_str(), partial_.c_str());
    return;
  }
  if (target_) target_->remove();  // only the file this run created
}

const std::string& OutputFile::partial_path() const { return resumed_ ? next_ : partial_; }

void OutputFile::create_fresh() {
  // Leftovers are replaced only as check_output allowed (--force, or the MPI runner's own files), and only
  // while locked by this process.
  for (const std::string& left : {partial_, next_}) {
    struct stat st {};
    if (::lstat(left.c_str(), &st) != 0) continue;
    auto old = take(left, request_.path);
    check_replaceable(left, old->fd());
    if (!old->remove()) throw OutputIoError("cannot remove " + left + ": " + system_reason(errno));
  }
  auto [file, locked] = create_exclusive(partial_, request_.path);
  file_ = std::move(file);
  target_ = std::move(locked);
}

void OutputFile::resume_from_partial() {
  source_ = take(partial_, request_.path);
  h5::Handle source = open_locked_readonly(*source_, request_.path);
  if (!source.valid()) throw OutputRefused(cannot_read_message(partial_));
  if (const std::string why = resumable(source, partial_, request_.scenario_yaml); !why.empty())
    throw OutputRefused(why);
  // OUT.partial.new left behind: every resume holds OUT.partial's lock while it writes that file, so its writer
  // has ended without finishing (killed). When it holds everything OUT.partial holds, it replaces it (it also
  // holds what that resume finished); otherwise it holds nothing OUT.partial does not, and is removed.
  struct stat st {};
  if (::lstat(next_.c_str(), &st) == 0) {
    auto stale = take(next_, request_.path);
    h5::Handle newer = open_locked_readonly(*stale, request_.path);
    bool promote = false;
    if (newer.valid() && resumable(newer, next_, request_.scenario_yaml).empty()) {
      const Verified old_units = verify(source, nullptr, partial_), new_units = verify(newer, nullptr, next_);
      promote = std::includes(new_units.units.begin(), new_units.units.end(), old_units.units.begin(),
                              old_units.units.end()) &&
                std::includes(new_units.populations.begin(), new_units.populations.end(),
                              old_units.populations.begin(), old_units.populations.end());
    }
    newer.close();
    if (promote) {
      source.close();
      if (::rename(next_.c_str(), partial_.c_str()) != 0)
        throw OutputIoError("cannot rename " + next_ + " to " + partial_ + ": " + system_reason(errno));
      stale->moved_to(partial_);
      source_ = std::move(stale);  // the replaced OUT.partial was unlinked by the rename
      source = open_locked_readonly(*source_, request_.path);
      if (!source.valid()) throw OutputRefused(cannot_read_message(partial_));
    } else {
      check_replaceable(next_, stale->fd());
      if (!stale->remove()) throw OutputIoError("cannot remove " + next_ + ": " + system_reason(errno));
    }
  }
  check_room_to_copy();
  auto [file, locked] = create_exclusive(next_, request_.path);
  file_ = std::move(file);
  target_ = std::move(locked);
  resumed_ = true;
  try {
    copy_verified(source);
    flush();
  } catch (...) {
    // The destructor does not run for an object whose constructor throws: remove what this resume created.
    close_file();
    target_->remove();
    throw;
  }
}

void OutputFile::check_room_to_copy() const {
  // HDF5 1.10's H5Ocopy crashes (SIGSEGV in H5T_close_real) when a write fails part-way through a copy, so the
  // room for the copy of the progress resumed (at most OUT.partial's size) is made sure of first.
  struct stat st {};
  if (::fstat(source_->fd(), &st) != 0) return;
  const auto need = static_cast<std::uint64_t>(st.st_size);
  const std::string dir = parent_of(request_.path);
  if (const auto free = free_bytes(dir); free && need > *free)
    throw OutputIoError("cannot resume: copying the progress in " + partial_ + " needs about " + mib(need) +
                        " and only " + mib(*free) + " are free in " + dir + "; " + partial_ + " is kept as it is");
  if (const auto limit = file_size_limit(); limit && need > *limit)
    throw OutputIoError("cannot resume: copying the progress in " + partial_ + " needs about " + mib(need) +
                        ", more than the file-size limit (ulimit -f) of " + mib(*limit) + "; " + partial_ +
                        " is kept as it is");
}

void OutputFile::copy_verified(hid_t source) {
  const Verified v = verify(source, request_.note, partial_);
  copy_run_header(source, file_, partial_);
  for (std::uint32_t r : v.populations) {
    bool used = false;
    for (const auto& unit : v.units) used = used || unit.second == r;
    if (used) copy_population(source, file_, r, partial_);
  }
  for (const auto& [arm, r] : v.units) {
    copy_unit(source, file_, arm, r, partial_);
    ++kept_;
  }
}

void OutputFile::close_file() {
  if (file_.valid()) file_.close();
}

void OutputFile::flush() {
  errno = 0;
  if (H5Fflush(file_, H5F_SCOPE_GLOBAL) < 0) {
    const int err = errno;
    throw h5::Error("HDF5: cannot flush " + partial_path() + " (" + (err != 0 ? system_reason(err) : "disk full?") + ")");
  }
}

void OutputFile::commit() {
  flush();
  const std::string from = partial_path();
  errno = 0;
  if (H5Fclose(file_.release()) < 0) {
    const int err = errno;
    throw h5::Error("HDF5: cannot close " + from + " (" + (err != 0 ? system_reason(err) : "disk full?") + ")");
  }
  if (!target_->still_at(from))
    throw OutputBusy(from + " was moved or replaced by another process while chacra wrote it; nothing was renamed to " +
                     request_.path);
  const std::string& out = request_.path;
  // The finished file stays where it is, under its partial name, and the error says so.
  auto rename_failed = [&](int err) {
    keep_ = true;
    return OutputIoError("cannot rename " + from + " to " + out + ": " + system_reason(err) +
                         "; the finished output is kept as " + from);
  };
  if (!request_.force) {
    // Never over a file that appeared while the run went on (another program's).
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, out.c_str(), RENAME_NOREPLACE) != 0) {
      const int err = errno;
      if (err == EEXIST) {
        keep_ = true;
        throw OutputExists("output " + out + " appeared while chacra ran; the finished output is kept as " + from +
                           ": rename it yourself");
      }
      if (err != EINVAL && err != ENOSYS) throw rename_failed(err);
      // A file system without RENAME_NOREPLACE: a hard link fails when the name exists.
      if (::link(from.c_str(), out.c_str()) != 0) throw rename_failed(errno);
      ::unlink(from.c_str());
    }
  } else {
    struct stat st {};
    if (::lstat(out.c_str(), &st) == 0) {
      const int fd = S_ISREG(st.st_mode) ? open_to_inspect(out) : -1;
      const bool replaceable = fd >= 0 && hdf5_or_empty(fd);
      if (fd >= 0) ::close(fd);
      if (!replaceable) {
        keep_ = true;
        throw OutputRefused("output " + out + " was replaced by " + kind_name(st.st_mode) +
                            " or a file that is not HDF5 while chacra ran; it is not replaced, and the finished "
                            "output is kept as " + from);
      }
    }
    if (::rename(from.c_str(), out.c_str()) != 0) throw rename_failed(errno);
  }
  committed_ = true;
  target_.reset();
  if (source_) source_->remove();  // the progress resumed is now in OUT
  source_.reset();
}

}  // namespace chacra::output
