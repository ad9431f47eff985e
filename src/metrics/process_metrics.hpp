#pragma once

#include <string>

namespace orders::metrics {

// The standard process_* series (CPU seconds, resident and virtual memory, open and maximum
// descriptors, start time) read from /proc/self at scrape time, and orders_build_info, in the
// text format. Appended to every /metrics answer, the API's and the worker's.
std::string render_process_metrics();

}  // namespace orders::metrics
