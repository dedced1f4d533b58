// The one way native code reads a file the user named (module sources,
// classic entry scripts).
#pragma once

#include <string>

namespace agentcluster {

// The whole text of a regular file, through one descriptor (no stat/open
// swap to a FIFO; never blocks on one). False if unreadable or not a regular
// file.
bool ReadRegularFile(const std::string& path, std::string* out);

}  // namespace agentcluster
