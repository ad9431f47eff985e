-- wrk script: POST /api/orders for one product from a new user on every request.
-- PRODUCT_ID comes from the environment (bench/purchase.sh sets it).
local product = os.getenv("PRODUCT_ID")
local n = 0
local run = tostring(os.time())
request = function()
  n = n + 1
  local body = '{"userId":"b' .. run .. '-' .. n .. '","items":[{"productId":"' .. product .. '","quantity":1}]}'
  return wrk.format("POST", "/api/orders", {["Content-Type"] = "application/json"}, body)
end
local statuses = {}
response = function(status)
  statuses[status] = (statuses[status] or 0) + 1
end
done = function()
  -- Per-thread counters are not visible here; bench/purchase.sh reads /metrics instead.
end
