#include <gtest/gtest.h>

#include "catalog/json.hpp"
#include "catalog/slug.hpp"
#include "catalog/validation.hpp"

using namespace orders;
using namespace orders::catalog;

namespace {

using FieldErrors = std::vector<orders::FieldError>;

template <typename T>
FieldErrors errors_of(const orders::Outcome<T>& v) {
  return std::holds_alternative<orders::Problem>(v) ? std::get<orders::Problem>(v).details : FieldErrors{};
}

bool names_field(const FieldErrors& errors, const std::string& field) {
  for (const auto& e : errors) {
    if (e.field == field) return true;
  }
  return false;
}

}  // namespace

TEST(Slug, IsDerivedFromTheName) {
  EXPECT_EQ(derive_slug("Home & Kitchen"), "home-kitchen");
  EXPECT_EQ(derive_slug("  Limited Drops 2026!  "), "limited-drops-2026");
  EXPECT_EQ(derive_slug("Électronique"), "lectronique");
  EXPECT_EQ(derive_slug("日本"), "");
  EXPECT_TRUE(is_valid_slug("home-kitchen"));
  EXPECT_FALSE(is_valid_slug("Home"));
  EXPECT_FALSE(is_valid_slug("a--b"));
  EXPECT_FALSE(is_valid_slug("-a"));
  EXPECT_FALSE(is_valid_slug(""));
}

TEST(CategoryValidation, NameRequiredSlugDerived) {
  auto ok = parse_new_category(R"({"name":"Home & Kitchen"})");
  ASSERT_TRUE(std::holds_alternative<NewCategory>(ok));
  EXPECT_EQ(std::get<NewCategory>(ok).slug, "home-kitchen");
  EXPECT_TRUE(names_field(errors_of(parse_new_category(R"({"slug":"x"})")), "name"));
  EXPECT_TRUE(names_field(errors_of(parse_new_category(R"({"name":"x","slug":"Bad Slug"})")), "slug"));
  EXPECT_TRUE(names_field(errors_of(parse_new_category(R"({"name":"日本"})")), "slug"));
  EXPECT_TRUE(names_field(errors_of(parse_new_category(R"({"name":"x","color":"red"})")), "color"));
  EXPECT_TRUE(names_field(errors_of(parse_new_category(R"({"name":)"
                                                       "\"" +
                                                       std::string(201, 'a') + "\"}")),
                          "name"));
  EXPECT_TRUE(names_field(errors_of(parse_new_category("[1]")), "body"));
  EXPECT_TRUE(names_field(errors_of(parse_new_category("{")), "body"));
  EXPECT_TRUE(names_field(errors_of(parse_new_category("")), "body"));
}

TEST(CategoryValidation, PatchNeedsAField) {
  EXPECT_TRUE(names_field(errors_of(parse_category_patch("{}")), "body"));
  auto p = parse_category_patch(R"({"description":null})");
  ASSERT_TRUE(std::holds_alternative<CategoryPatch>(p));
  EXPECT_TRUE(std::get<CategoryPatch>(p).description.is_null());
}

TEST(ProductValidation, AcceptsAFullProduct) {
  auto p = parse_new_product(R"({"name":"Drop","price":19.99,"stock":10,"description":"d","sku":"SKU-1",
      "categoryId":"0190C3B2-6F1E-7A2B-8C3D-4E5F6A7B8C9D","maxPerUser":2,
      "saleStartsAt":"2026-11-25T10:00:00Z","saleEndsAt":"2026-11-25T11:00:00Z"})",
                             0);
  ASSERT_TRUE(std::holds_alternative<NewProduct>(p)) << errors_of(p).at(0).field;
  const auto& n = std::get<NewProduct>(p);
  EXPECT_EQ(n.price.cents, 1999);
  EXPECT_EQ(*n.category_id, "0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d");
  EXPECT_EQ(*n.max_per_user, 2);
  EXPECT_EQ(*n.sale_ends_at - *n.sale_starts_at, 3600000);
}

TEST(ProductValidation, EveryBadFieldIsNamed) {
  struct Case {
    const char* body;
    const char* field;
  } cases[] = {
      {R"({"price":1,"stock":1})", "name"},
      {R"({"name":"","price":1,"stock":1})", "name"},
      {R"({"name":"x","stock":1})", "price"},
      {R"({"name":"x","price":-1,"stock":1})", "price"},
      {R"({"name":"x","price":1.999,"stock":1})", "price"},
      {R"({"name":"x","price":"1.00","stock":1})", "price"},
      {R"({"name":"x","price":1e20,"stock":1})", "price"},
      {R"({"name":"x","price":1})", "stock"},
      {R"({"name":"x","price":1,"stock":-1})", "stock"},
      {R"({"name":"x","price":1,"stock":1.5})", "stock"},
      {R"({"name":"x","price":1,"stock":"5"})", "stock"},
      {R"({"name":"x","price":1,"stock":99999999999})", "stock"},
      {R"({"name":"x","price":1,"stock":1,"categoryId":"nope"})", "categoryId"},
      {R"({"name":"x","price":1,"stock":1,"maxPerUser":0})", "maxPerUser"},
      {R"({"name":"x","price":1,"stock":1,"saleStartsAt":"yesterday"})", "saleStartsAt"},
      {R"({"name":"x","price":1,"stock":1,"saleStartsAt":"2026-01-02T00:00:00Z","saleEndsAt":"2026-01-01T00:00:00Z"})",
       "saleEndsAt"},
      {R"({"name":"x","price":1,"stock":1,"sku":""})", "sku"},
      {R"({"name":"x","price":1,"stock":1,"isActive":false})", "isActive"},
      {R"({"name":7,"price":1,"stock":1})", "name"},
      {R"({"name":"x","price":1,"stock":1,"stockBuckets":0})", "stockBuckets"},
      {R"({"name":"x","price":1,"stock":1,"stockBuckets":65})", "stockBuckets"},
      {R"({"name":"x","price":1,"stock":1,"stockBuckets":2.5})", "stockBuckets"},
  };
  for (const auto& c : cases) {
    auto errors = errors_of(parse_new_product(c.body, 0));
    EXPECT_TRUE(names_field(errors, c.field)) << c.body;
  }
}

TEST(ProductValidation, StockBucketsDefaultsToOneAndIsFixedAtCreation) {
  auto one = parse_new_product(R"({"name":"x","price":1,"stock":1})", 0);
  ASSERT_TRUE(std::holds_alternative<NewProduct>(one));
  EXPECT_EQ(std::get<NewProduct>(one).stock_buckets, 1);
  auto eight = parse_new_product(R"({"name":"x","price":1,"stock":1,"stockBuckets":8})", 0);
  ASSERT_TRUE(std::holds_alternative<NewProduct>(eight));
  EXPECT_EQ(std::get<NewProduct>(eight).stock_buckets, 8);
  auto errors = errors_of(parse_product_patch(R"({"stockBuckets":8})"));
  ASSERT_TRUE(names_field(errors, "stockBuckets"));
  EXPECT_EQ(errors.at(0).message, "is fixed when the product is created");
}

TEST(ProductValidation, PatchDistinguishesAbsentNullAndValue) {
  auto p = parse_product_patch(R"({"stock":5,"description":null})");
  ASSERT_TRUE(std::holds_alternative<ProductPatch>(p));
  const auto& patch = std::get<ProductPatch>(p);
  EXPECT_EQ(*patch.stock, 5);
  EXPECT_TRUE(patch.description.is_null());
  EXPECT_FALSE(patch.sku.present);
  EXPECT_TRUE(names_field(errors_of(parse_product_patch(R"({"stock":-1})")), "stock"));
  EXPECT_TRUE(names_field(errors_of(parse_product_patch(R"({"name":null})")), "name"));
  EXPECT_TRUE(names_field(errors_of(parse_product_patch(R"({})")), "body"));
}

TEST(ProductListQuery, PageAndLimitBounds) {
  auto q = parse_product_list_query("page=2&limit=100&categoryId=0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d");
  ASSERT_TRUE(std::holds_alternative<ProductListQuery>(q));
  EXPECT_EQ(std::get<ProductListQuery>(q).page, 2);
  EXPECT_EQ(std::get<ProductListQuery>(q).limit, 100);
  auto d = std::get<ProductListQuery>(parse_product_list_query(""));
  EXPECT_EQ(d.page, 1);
  EXPECT_EQ(d.limit, 10);
  EXPECT_TRUE(names_field(errors_of(parse_product_list_query("limit=0")), "limit"));
  EXPECT_TRUE(names_field(errors_of(parse_product_list_query("limit=101")), "limit"));
  EXPECT_TRUE(names_field(errors_of(parse_product_list_query("page=0")), "page"));
  EXPECT_TRUE(names_field(errors_of(parse_product_list_query("page=abc")), "page"));
  EXPECT_TRUE(names_field(errors_of(parse_product_list_query("page=-1")), "page"));
  EXPECT_TRUE(names_field(errors_of(parse_product_list_query("categoryId=x")), "categoryId"));
  EXPECT_TRUE(names_field(errors_of(parse_product_list_query("sort=name")), "sort"));
}

TEST(ProductJson, PriceIsAnExactNumberAndStockIsSpliced) {
  Product p;
  p.id = "0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d";
  p.name = "Quote \" and \\ backslash";
  p.price = Money{1999};
  p.created_at = p.updated_at = 0;
  std::string json = with_stock(product_json_without_stock(p), 42);
  EXPECT_EQ(json.rfind("{\"stock\":42,\"id\":\"0190c3b2", 0), 0u) << json;
  EXPECT_NE(json.find("\"price\":19.99,"), std::string::npos);
  EXPECT_NE(json.find(R"("name":"Quote \" and \\ backslash")"), std::string::npos);
  EXPECT_NE(json.find("\"maxPerUser\":null"), std::string::npos);
  EXPECT_NE(json.find("\"createdAt\":\"1970-01-01T00:00:00.000Z\""), std::string::npos);
}

TEST(ProductListQuery, ReadsOnlyTheViewItIsGiven) {
  // The query is a view into the request target; what follows it must not be read.
  std::string target = "limit=2&categoryId=0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9dXYZ&junk=1";
  std::string_view query(target.data(), target.find("XYZ"));
  auto q = parse_product_list_query(query);
  ASSERT_TRUE(std::holds_alternative<ProductListQuery>(q));
  EXPECT_EQ(*std::get<ProductListQuery>(q).category_id, "0190c3b2-6f1e-7a2b-8c3d-4e5f6a7b8c9d");
}
