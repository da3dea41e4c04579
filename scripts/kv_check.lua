-- kv_check.lua -- wrk script for kvserver (scripts/kv_soak.sh): GETs of
-- random preloaded keys and PUTs of new versions, every answer checked.
-- Values are "KEY:VERSION:FILLER:SUM" with SUM = (sum * 31 + byte) mod
-- 1000000007 over everything before the last colon (examples/kv_value.h).
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end

local counter, nkeys = 0, 10000
bad, checked = 0, 0

local function ksum(s)
  local x = 0
  for i = 1, #s do
    x = (x * 31 + s:byte(i)) % 1000000007
  end
  return x
end

request = function()
  counter = counter + 1
  local key = "key" .. math.random(0, nkeys - 1)
  if counter % 10 == 0 then
    local prefix = key .. ":" .. counter .. ":" .. string.rep("x", counter % 300)
    local body = prefix .. ":" .. string.format("%d", ksum(prefix))
    return wrk.format("PUT", "/k/" .. key, nil, body)
  end
  return wrk.format("GET", "/k/" .. key)
end

response = function(status, headers, body)
  checked = checked + 1
  if status ~= 200 then
    bad = bad + 1
    return
  end
  local key = headers["X-Key"]
  if key == nil then
    if body ~= "ok" then bad = bad + 1 end
    return
  end
  local last = body:match("^.*():")
  if body:sub(1, #key + 1) ~= key .. ":" or last == nil
     or body:sub(last + 1) ~= string.format("%d", ksum(body:sub(1, last - 1))) then
    bad = bad + 1
  end
end

done = function(summary, latency, requests)
  local b, c = 0, 0
  for _, t in ipairs(threads) do
    b = b + t:get("bad")
    c = c + t:get("checked")
  end
  io.write(string.format("kv_check: %d answers checked, %d bad\n", c, b))
end
