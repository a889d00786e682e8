-- wrk script for the load test (benchmarks/load.py): the token mix, and per-class verdicts and latencies.
--
--   wrk -t1 -c64 -d10s -s benchmarks/load_mix.lua URL -- TOKENS OUT MODE OFFSET TARGET
--
-- TOKENS: lines "class<TAB>token" written by load.py. OUT: where done() writes its JSON.
-- MODE "mix": each request takes the next class of a fixed 100-slot wheel (the weights below)
-- and that class's next token ("fresh_valid" tokens are used once each, the others cycle).
-- MODE "distinct": every request carries a token never sent before (from OFFSET on): a
-- correctly shaped token with a new payload and a wrong signature, one with a new unknown kid,
-- garbage, and the valid tokens of the file in turn; for the memory measurement. MODE "agent":
-- every request carries a repeated valid token, as one agent's session sends the same token
-- with every call (the traffic the server's hot path is built for).
-- TARGET "api": GET /api; "mcp": POST /mcp with a JSON-RPC tools/list.
-- Each request carries x-class and x-sent (CLOCK_MONOTONIC, microseconds); the server echoes
-- them back, so response() knows each response's class and latency without a connection id.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } jwkverify_timespec;
int clock_gettime(int clk_id, jwkverify_timespec *tp);
]]
local ts = ffi.new("jwkverify_timespec")
local function now_us()
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) * 1000000 + math.floor(tonumber(ts.tv_nsec) / 1000)
end

local WEIGHTS = {
  {"repeated_valid", 50}, {"fresh_valid", 15}, {"expired", 6}, {"wrong_audience", 6},
  {"forged_signature", 6}, {"unknown_kid", 6}, {"alg_none", 5}, {"garbage", 6},
}

local threads = {}
local thread_count = 0

function setup(thread)
  thread:set("id", thread_count)
  thread_count = thread_count + 1
  table.insert(threads, thread)
end

-- base64url without padding
local ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
local function b64url(text)
  local out, bit = {}, require("bit")
  for i = 1, #text, 3 do
    local a, b, c = text:byte(i, i + 2)
    local n = bit.bor(bit.lshift(a, 16), bit.lshift(b or 0, 8), c or 0)
    local chars = 2 + (b and 1 or 0) + (c and 1 or 0)
    for j = 1, chars do
      local index = bit.band(bit.rshift(n, 6 * (4 - j)), 63)
      out[#out + 1] = ALPHABET:sub(index + 1, index + 1)
    end
  end
  return table.concat(out)
end

local tokens, cursor, wheel, slot = {}, {}, {}, 0
local mode, target, counter, stride = "mix", "api", 0, 1
OUT = nil  -- global: done() runs in the main Lua state and reads it from a thread
local signature_segment, valid_header, alg = nil, nil, "RS256"

function init(args)
  OUT, mode, target = args[2], args[3] or "mix", args[5] or "api"
  counter = tonumber(args[4] or "0") + (id or 0)
  stride = 64  -- distinct counters per thread, however many threads there are
  for line in io.lines(args[1]) do
    local class, token = line:match("^([%w_]+)\t(.+)$")
    if class then
      tokens[class] = tokens[class] or {}
      table.insert(tokens[class], token)
      cursor[class] = 0
    end
  end
  for _, entry in ipairs(WEIGHTS) do
    for _ = 1, entry[2] do wheel[#wheel + 1] = entry[1] end
  end
  -- interleave the wheel so that classes alternate rather than come in runs
  local spread = {}
  for i = 1, #wheel do spread[((i - 1) * 37) % #wheel + 1] = wheel[i] end
  wheel = spread
  local sample = tokens["fresh_valid"] and tokens["fresh_valid"][1] or tokens["repeated_valid"][1]
  alg = tokens["alg"] and tokens["alg"][1] or alg
  valid_header = sample:match("^([^.]+)%.")
  signature_segment = sample:match("%.([^.]+)$")
end

local function next_token(class)
  local list = tokens[class]
  local index = cursor[class] % #list + 1
  cursor[class] = index
  return list[index]
end

local sequence = 0
local function distinct()
  counter = counter + stride
  sequence = sequence + 1
  local kind = sequence % 4
  local payload = b64url('{"sub":"user-' .. counter .. '","iss":"x","aud":"y","exp":4102444800}')
  if kind == 0 then
    return "forged_signature", valid_header .. "." .. payload .. "." .. signature_segment
  elseif kind == 1 then
    local header = b64url('{"alg":"' .. alg .. '","kid":"m' .. counter .. '"}')
    return "unknown_kid", header .. "." .. payload .. "." .. signature_segment
  elseif kind == 2 then
    return "garbage", "g" .. counter .. ".not-a.token"
  end
  return "fresh_valid", next_token("fresh_valid")
end

local MCP_BODY = '{"jsonrpc":"2.0","id":1,"method":"tools/list","params":{}}'

function request()
  local class, token
  if mode == "distinct" then
    class, token = distinct()
  elseif mode == "agent" then
    class = "repeated_valid"
    token = next_token(class)
  else
    slot = slot % #wheel + 1
    class = wheel[slot]
    token = next_token(class)
  end
  local headers = {["Authorization"] = "Bearer " .. token, ["x-class"] = class, ["x-sent"] = tostring(now_us())}
  if target == "mcp" then
    headers["Content-Type"] = "application/json"
    headers["Accept"] = "application/json, text/event-stream"
    return wrk.format("POST", "/mcp", headers, MCP_BODY)
  end
  return wrk.format("GET", "/api", headers, nil)
end

-- Per-thread results live in one flat table (wrk copies nested tables out of a thread badly):
-- "s|class|status" -> count, "r|class" -> 503s with Retry-After, "h|class|bucket" -> latencies
-- in buckets 2% wide, "m|class" -> the slowest, in microseconds.
tally = {}
local LOG_STEP = math.log(1.02)

function response(status, headers, body)
  local class = headers["x-class"] or "?"
  local key = "s|" .. class .. "|" .. status
  tally[key] = (tally[key] or 0) + 1
  if status == 503 and (headers["retry-after"] or headers["Retry-After"]) then
    tally["r|" .. class] = (tally["r|" .. class] or 0) + 1
  end
  local sent = tonumber(headers["x-sent"] or "")
  if sent then
    local us = math.max(1, now_us() - sent)
    local bucket = "h|" .. class .. "|" .. math.floor(math.log(us) / LOG_STEP)
    tally[bucket] = (tally[bucket] or 0) + 1
    if us > (tally["m|" .. class] or 0) then tally["m|" .. class] = us end
  end
end

local function percentile(histogram, total, p)
  local rank, seen = math.max(1, math.ceil(total * p / 100)), 0
  for _, entry in ipairs(histogram) do
    seen = seen + entry[2]
    if seen >= rank then return math.floor(math.exp((entry[1] + 1) * LOG_STEP)) end
  end
  return 0
end

function done(summary, latency, requests)
  local merged = {}
  for _, thread in ipairs(threads) do
    for key, count in pairs(thread:get("tally")) do
      if key:sub(1, 2) == "m|" then
        merged[key] = math.max(merged[key] or 0, count)
      else
        merged[key] = (merged[key] or 0) + count
      end
    end
  end
  local classes = {}
  for key, count in pairs(merged) do
    local kind, class, rest = key:match("^(%a)|([^|]+)|?(.*)$")
    local per = classes[class] or {status = {}, histogram = {}, total = 0, retry_after = 0, max = 0}
    classes[class] = per
    if kind == "s" then per.status[#per.status + 1] = string.format('"%s": %d', rest, count)
    elseif kind == "r" then per.retry_after = count
    elseif kind == "m" then per.max = count
    elseif kind == "h" then
      per.histogram[#per.histogram + 1] = {tonumber(rest), count}
      per.total = per.total + count
    end
  end
  local parts = {}
  for class, per in pairs(classes) do
    table.sort(per.histogram, function(a, b) return a[1] < b[1] end)
    parts[#parts + 1] = string.format(
      '"%s": {"status": {%s}, "retry_after": %d, "n": %d, "p50_us": %d, "p99_us": %d, "max_us": %d}',
      class, table.concat(per.status, ", "), per.retry_after, per.total,
      math.min(per.max, percentile(per.histogram, per.total, 50)),
      math.min(per.max, percentile(per.histogram, per.total, 99)), per.max)
  end
  local errors = summary.errors
  local file = io.open(threads[1]:get("OUT"), "w")
  file:write(string.format(
    '{"requests": %d, "duration_us": %d, "errors": {"connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d}, "p50_us": %d, "p99_us": %d, "max_us": %d, "classes": {%s}}\n',
    summary.requests, summary.duration, errors.connect, errors.read, errors.write, errors.status,
    errors.timeout, latency:percentile(50), latency:percentile(99), latency.max, table.concat(parts, ", ")))
  file:close()
end
