#pragma once

#include "bench/settings.hpp"
#include "config/config.hpp"

// The `orders bench` subcommands (exit codes as app/commands.hpp's).
namespace orders::bench {

// `orders bench flash-sale`: needs PostgreSQL and Redis for the checks; exit 1 when one fails.
int run_bench_flash_sale(const config::Dependencies& deps, const FlashSaleSettings& settings);
int run_bench_read(const ReadSettings& settings);

}  // namespace orders::bench
