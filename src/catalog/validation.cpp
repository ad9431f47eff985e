#include "catalog/validation.hpp"

#include <boost/url/decode_view.hpp>

#include "catalog/slug.hpp"
#include "common/json_body.hpp"
#include "common/uuid.hpp"

namespace orders::catalog {

namespace {

std::optional<std::string> read_slug(JsonBody& body) {
  auto slug = body.string("slug", Presence::kOptional, 1, kMaxNameLength);
  if (slug && !is_valid_slug(*slug)) {
    body.add_error("slug", "must be lower-case letters and digits separated by single dashes");
    return std::nullopt;
  }
  return slug;
}

}  // namespace

Outcome<NewCategory> parse_new_category(std::string_view text) {
  JsonBody body = JsonBody::parse(text);
  if (!body.is_object()) return invalid_fields(body.errors());
  body.reject_unknown({"name", "slug", "description"});
  NewCategory c;
  auto name = body.string("name", Presence::kRequired, 1, kMaxNameLength);
  auto slug = read_slug(body);
  c.description = body.string("description", Presence::kOptional, 0, kMaxCategoryDescriptionLength);
  if (name) {
    c.name = *name;
    if (slug) {
      c.slug = *slug;
    } else if (!body.object().contains("slug") || body.object().at("slug").is_null()) {
      // Absent or null: derived from the name.
      c.slug = derive_slug(*name);
      if (c.slug.empty()) body.add_error("slug", "cannot be derived from the name; give one");
    }
  }
  if (!body.valid()) return invalid_fields(body.errors());
  return c;
}

Outcome<CategoryPatch> parse_category_patch(std::string_view text) {
  JsonBody body = JsonBody::parse(text);
  if (!body.is_object()) return invalid_fields(body.errors());
  body.reject_unknown({"name", "slug", "description"});
  CategoryPatch p;
  if (body.object().contains("name")) p.name = body.string("name", Presence::kRequired, 1, kMaxNameLength);
  if (body.object().contains("slug")) {
    p.slug = read_slug(body);
    if (!p.slug && body.valid()) body.add_error("slug", "must not be null");
  }
  p.description = body.string_patch("description", 0, kMaxCategoryDescriptionLength);
  if (!body.valid()) return invalid_fields(body.errors());
  if (!p.name && !p.slug && !p.description.present) return invalid_field("body", "names no field to change");
  return p;
}

Outcome<NewProduct> parse_new_product(std::string_view text, EpochMs) {
  JsonBody body = JsonBody::parse(text);
  if (!body.is_object()) return invalid_fields(body.errors());
  body.reject_unknown({"name", "price", "stock", "description", "sku", "categoryId", "maxPerUser", "saleStartsAt",
                       "saleEndsAt", "paymentWindowSeconds", "stockBuckets"});
  NewProduct p;
  auto name = body.string("name", Presence::kRequired, 1, kMaxNameLength);
  auto price = body.money("price", Presence::kRequired, 0, kMaxPriceCents);
  auto stock = body.integer("stock", Presence::kRequired, 0, kMaxStock);
  p.description = body.string("description", Presence::kOptional, 0, kMaxProductDescriptionLength);
  p.sku = body.string("sku", Presence::kOptional, 1, kMaxSkuLength);
  p.category_id = body.uuid("categoryId", Presence::kOptional);
  p.max_per_user = body.integer("maxPerUser", Presence::kOptional, 1, kMaxPerUserLimit);
  p.sale_starts_at = body.timestamp("saleStartsAt", Presence::kOptional);
  p.sale_ends_at = body.timestamp("saleEndsAt", Presence::kOptional);
  p.payment_window_seconds = body.integer("paymentWindowSeconds", Presence::kOptional, 1, kMaxPaymentWindowSeconds);
  auto buckets = body.integer("stockBuckets", Presence::kOptional, 1, kMaxStockBuckets);
  if (p.sale_starts_at && p.sale_ends_at && *p.sale_ends_at <= *p.sale_starts_at) {
    body.add_error("saleEndsAt", "must be after saleStartsAt");
  }
  if (!body.valid()) return invalid_fields(body.errors());
  p.name = *name;
  p.price = *price;
  p.stock = *stock;
  p.stock_buckets = static_cast<int>(buckets.value_or(1));
  return p;
}

Outcome<ProductPatch> parse_product_patch(std::string_view text) {
  JsonBody body = JsonBody::parse(text);
  if (!body.is_object()) return invalid_fields(body.errors());
  body.reject_unknown({"name", "price", "stock", "description", "sku", "categoryId", "maxPerUser", "saleStartsAt",
                       "saleEndsAt", "paymentWindowSeconds", "stockBuckets"});
  ProductPatch p;
  const auto& o = body.object();
  // Buyers' home buckets and their per-user counts follow the number of buckets.
  if (o.contains("stockBuckets")) body.add_error("stockBuckets", "is fixed when the product is created");
  if (o.contains("name")) p.name = body.string("name", Presence::kRequired, 1, kMaxNameLength);
  if (o.contains("price")) p.price = body.money("price", Presence::kRequired, 0, kMaxPriceCents);
  if (o.contains("stock")) p.stock = body.integer("stock", Presence::kRequired, 0, kMaxStock);
  p.description = body.string_patch("description", 0, kMaxProductDescriptionLength);
  p.sku = body.string_patch("sku", 1, kMaxSkuLength);
  p.category_id = body.uuid_patch("categoryId");
  p.max_per_user = body.integer_patch("maxPerUser", 1, kMaxPerUserLimit);
  p.sale_starts_at = body.timestamp_patch("saleStartsAt");
  p.sale_ends_at = body.timestamp_patch("saleEndsAt");
  p.payment_window_seconds = body.integer_patch("paymentWindowSeconds", 1, kMaxPaymentWindowSeconds);
  if (p.sale_starts_at.value && p.sale_ends_at.value && *p.sale_ends_at.value <= *p.sale_starts_at.value) {
    body.add_error("saleEndsAt", "must be after saleStartsAt");
  }
  if (!body.valid()) return invalid_fields(body.errors());
  if (p.empty()) return invalid_field("body", "names no field to change");
  return p;
}

Outcome<ProductListQuery> parse_product_list_query(std::string_view query) {
  ProductListQuery q;
  std::vector<FieldError> errors;
  auto params = decode_query(query);
  if (!params) return invalid_field("query", "is not a valid query string");
  for (const auto& [key, value] : *params) {
    if (key == "page") {
      auto n = parse_query_integer(value, 1, kMaxPage);
      if (n) q.page = *n;
      else errors.push_back({"page", "must be an integer from 1 to " + std::to_string(kMaxPage)});
    } else if (key == "limit") {
      auto n = parse_query_integer(value, 1, kMaxLimit);
      if (n) q.limit = *n;
      else errors.push_back({"limit", "must be an integer from 1 to " + std::to_string(kMaxLimit)});
    } else if (key == "categoryId") {
      q.category_id = uuid::normalize(value);
      if (!q.category_id) errors.push_back({"categoryId", "must be a UUID"});
    } else {
      errors.push_back({key, "is not a known query parameter"});
    }
  }
  if (!errors.empty()) return invalid_fields(std::move(errors));
  return q;
}

}  // namespace orders::catalog
