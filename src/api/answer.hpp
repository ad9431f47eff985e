#pragma once

#include "common/problem.hpp"
#include "http/message.hpp"

// Where the domain's outcomes become HTTP: a Problem's kind picks the status code, and the
// envelope (SPEC section 4) carries its code, message and fields.
namespace orders::api {

int status_of(ProblemKind kind);

// The error envelope for a refusal; 503s say when to come back (Retry-After: 2).
http::Response answer(const Problem& problem);

}  // namespace orders::api
