#include "catalog/json.hpp"

#include "common/json_writer.hpp"

namespace orders::catalog {
namespace {

void optional_time(JsonWriter& w, const std::optional<EpochMs>& t) {
  if (t) w.string(format_rfc3339(*t));
  else w.null();
}

}  // namespace

std::string category_json(const Category& c) {
  std::string out;
  JsonWriter w(out);
  w.begin_object();
  w.key("id").string(c.id);
  w.key("name").string(c.name);
  w.key("slug").string(c.slug);
  w.key("description").optional_string(c.description);
  w.key("createdAt").string(format_rfc3339(c.created_at));
  w.key("updatedAt").string(format_rfc3339(c.updated_at));
  w.end_object();
  return out;
}

std::string product_json_without_stock(const Product& p) {
  std::string out;
  out.reserve(512);
  JsonWriter w(out);
  w.begin_object();
  w.key("id").string(p.id);
  w.key("name").string(p.name);
  w.key("description").optional_string(p.description);
  w.key("sku").optional_string(p.sku);
  w.key("price").raw_number(p.price.to_decimal());
  w.key("categoryId").optional_string(p.category_id);
  w.key("maxPerUser").optional_number(p.max_per_user);
  w.key("saleStartsAt");
  optional_time(w, p.sale_starts_at);
  w.key("saleEndsAt");
  optional_time(w, p.sale_ends_at);
  w.key("paymentWindowSeconds").optional_number(p.payment_window_seconds);
  w.key("stockBuckets").number(p.stock_buckets);
  w.key("isActive").boolean(p.is_active);
  w.key("createdAt").string(format_rfc3339(p.created_at));
  w.key("updatedAt").string(format_rfc3339(p.updated_at));
  w.end_object();
  return out;
}

std::string with_stock(std::string_view product, std::int64_t stock) {
  // product is "{...}" with at least the id: insert the stock as the first member.
  std::string out;
  out.reserve(product.size() + 24);
  out += "{\"stock\":";
  out += std::to_string(stock);
  out += ',';
  out.append(product.substr(1));
  return out;
}

}  // namespace orders::catalog
