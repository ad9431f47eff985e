#pragma once

#include <string_view>

// The API's machine-readable error codes (SPEC section 4), defined once.
namespace orders::codes {

inline constexpr std::string_view kValidationFailed = "VALIDATION_FAILED";
inline constexpr std::string_view kNotFound = "NOT_FOUND";
inline constexpr std::string_view kMethodNotAllowed = "METHOD_NOT_ALLOWED";
inline constexpr std::string_view kConflict = "CONFLICT";
inline constexpr std::string_view kServiceUnavailable = "SERVICE_UNAVAILABLE";
inline constexpr std::string_view kOverloaded = "OVERLOADED";
inline constexpr std::string_view kInternalError = "INTERNAL_ERROR";
inline constexpr std::string_view kBadRequest = "BAD_REQUEST";  // malformed HTTP
inline constexpr std::string_view kUnsupportedMediaType = "UNSUPPORTED_MEDIA_TYPE";
inline constexpr std::string_view kHeadersTooLarge = "REQUEST_HEADERS_TOO_LARGE";
inline constexpr std::string_view kUnauthorized = "UNAUTHORIZED";
inline constexpr std::string_view kForbidden = "FORBIDDEN";
inline constexpr std::string_view kProductNotFound = "PRODUCT_NOT_FOUND";
inline constexpr std::string_view kOutOfStock = "OUT_OF_STOCK";
inline constexpr std::string_view kPurchaseLimitExceeded = "PURCHASE_LIMIT_EXCEEDED";
inline constexpr std::string_view kSaleNotActive = "SALE_NOT_ACTIVE";
inline constexpr std::string_view kIdempotencyKeyReused = "IDEMPOTENCY_KEY_REUSED";
inline constexpr std::string_view kRequestInProgress = "REQUEST_IN_PROGRESS";
inline constexpr std::string_view kInvalidTransition = "INVALID_TRANSITION";
inline constexpr std::string_view kAlreadyCancelled = "ALREADY_CANCELLED";
inline constexpr std::string_view kOrderExpired = "ORDER_EXPIRED";

}  // namespace orders::codes
