#include "api/answer.hpp"

#include "http/envelope.hpp"

namespace orders::api {

int status_of(ProblemKind kind) {
  switch (kind) {
    case ProblemKind::kInvalid: return 400;
    case ProblemKind::kNotFound: return 404;
    case ProblemKind::kConflict: return 409;
    case ProblemKind::kUnprocessable: return 422;
    case ProblemKind::kUnavailable: return 503;
  }
  return 500;
}

http::Response answer(const Problem& problem) {
  http::Response r = http::error(status_of(problem.kind), problem.code, problem.message, problem.details);
  if (problem.kind == ProblemKind::kUnavailable) r.with_header("Retry-After", "2");
  return r;
}

}  // namespace orders::api
