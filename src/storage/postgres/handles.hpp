#pragma once

#include <memory>

// libpq's handles, declared as libpq-fe.h declares them (a typedef of the same type may be
// repeated), so that the headers of this folder name them without including libpq: only the
// .cpp files under src/storage/ see the C client.
struct pg_conn;
struct pg_result;
using PGconn = pg_conn;
using PGresult = pg_result;

namespace orders::postgres {

struct ConnDeleter {
  void operator()(PGconn* c) const;  // PQfinish
};
using ConnPtr = std::unique_ptr<PGconn, ConnDeleter>;

}  // namespace orders::postgres
