// An open descriptor owned by whoever holds the last std::shared_ptr to it: a SegmentFile and each
// of its in-flight async operations hold one, so close() with reads pending closes the descriptor
// when the last of them completes, never under a read that is still running.
#pragma once

#include <unistd.h>

#include <string>
#include <utility>

namespace sluice {

class FileHandle {
 public:
  FileHandle(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  // close(2) errors are unreportable here and, on Linux, the descriptor is released regardless.
  ~FileHandle() { ::close(fd_); }
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }

 private:
  const int fd_;
  const std::string path_;
};

}  // namespace sluice
