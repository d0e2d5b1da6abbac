// The life of chacra's output file on disk (docs/reliability.md, "Files"): the checks on an output path made
// before any work, the partial file created exclusively and locked for as long as a run writes it, the rename
// into place, `--resume` (which never writes into the progress it resumes), and removal of nothing but files
// chacra created. The writer (sim/output/writer.hpp) writes into the open file; this owns where it lives.
#pragma once

#include "sim/errors.hpp"
#include "sim/output/h5.hpp"

#include <cstdint>
#include <functional>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace chacra {

// The output path already exists and --force was not given.
class OutputExists : public BadInput {
 public:
  using BadInput::BadInput;
};

}  // namespace chacra

namespace chacra::output {

class LockedFile;  // a file held open and locked (flock) by this process (lifecycle.cpp)

// An output path chacra will not write to (a device, a link, the scenario itself, a name too long, a directory
// that does not exist, a disk too small...), found before any work.
class OutputRefused : public BadInput {
 public:
  using BadInput::BadInput;
};

// Another process is writing the same output (its partial file is locked).
class OutputBusy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// A file operation on the output failed; the message carries the operating system's reason.
class OutputIoError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// OUT.partial: the file a run writes, renamed to OUT when complete and kept when interrupted.
std::string partial_path(const std::string& output);
// OUT.partial.new: what `--resume` writes (OUT.partial's verified units and the rest), renamed to OUT when
// complete, or over OUT.partial when interrupted.
std::string resume_path(const std::string& output);

struct OutputRequest {
  std::string path;   // OUT
  bool force = false;  // replace an existing OUT (a regular file that is empty or HDF5), or start over a partial
  bool resume = false;  // continue OUT.partial
  // The resolved scenario: a partial file is resumed only when it holds exactly this one ("": any scenario, for
  // a check made before the budget solve has resolved it).
  std::string scenario_yaml;
  // Files the output may never be (the scenario it was run from).
  std::vector<std::string> inputs;
  // A leftover OUT.partial (empty or HDF5, not locked) is started over without --force: the MPI runner's own
  // intermediate files, whose progress lives elsewhere (OUT.parts/).
  bool replace_stale_partial = false;
  // Bytes the output will take at the least; refused before the run when the disk or the file-size limit
  // (ulimit -f) cannot hold them. 0: no check.
  std::uint64_t min_bytes = 0;
  // Bytes it takes typically; a note is returned when they do not fit.
  std::uint64_t typical_bytes = 0;
  // Warnings while resuming (a unit whose checksum fails, and is run again).
  std::function<void(const std::string&)> note;
};

// Everything about the output path that can be checked before the run: a name (not empty, not a directory's,
// short enough for the file system with the .partial.new suffix), a directory that exists and can be written,
// an existing OUT only with --force and only when it is a regular file, empty or HDF5, and not one of the inputs;
// a partial file that no other process holds, of this scenario with --resume, replaced only with --force (and
// only when it is a partial chacra wrote); room for the output. Throws OutputExists or OutputRefused (exit
// status 2), OutputBusy (1) or ConfigError (a partial of another scenario); returns notes (the output may not
// fit).
std::vector<std::string> check_output(const OutputRequest& request);

// The run's open output. A fresh run creates OUT.partial exclusively (never through a link, never over a file
// that appeared meanwhile) and locks it; --resume locks OUT.partial, verifies it, and copies its finished,
// checksum-verified units into a new OUT.partial.new, so that the progress it resumes is never written to.
// commit() renames the file to OUT. An interrupted run keeps its progress (keep_partial()): OUT.partial, or
// OUT.partial.new renamed over it. A failed run removes only the file it created itself; a failed resume leaves
// OUT.partial as it found it.
class OutputFile {
 public:
  explicit OutputFile(OutputRequest request);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;
  hid_t id() const { return file_.id(); }
  bool resumed() const { return resumed_; }
  // The file being written (OUT.partial, or OUT.partial.new when resuming).
  const std::string& partial_path() const;
  // Arm x replicate units copied from the progress resumed.
  std::size_t units_kept() const { return kept_; }
  void keep_partial() { keep_ = true; }
  void flush();
  void commit();

 private:
  void create_fresh();
  void resume_from_partial();
  void check_room_to_copy() const;
  void copy_verified(hid_t source);
  void close_file();
  OutputRequest request_;
  std::string partial_, next_;
  std::unique_ptr<LockedFile> source_;  // OUT.partial being resumed (locked, never written)
  std::unique_ptr<LockedFile> target_;  // the file written (locked)
  h5::Handle file_;
  bool committed_ = false, keep_ = false, resumed_ = false;
  std::size_t kept_ = 0;
};

// ---- Shared with the CSV export's directory and the MPI runner's unit files ----

// The operating system's reason for errno `err` ("No space left on device").
std::string system_reason(int err);
// What is at `path`, a final symbolic link not followed ("a symbolic link", "a directory", "a character
// device"...), or "" when nothing is there.
std::string path_kind(const std::string& path);
// Removes `path` when it is a file chacra may have left (a regular file, empty or HDF5, that no process holds
// locked); true when it was removed or absent.
bool remove_leftover(const std::string& path);

}  // namespace chacra::output
