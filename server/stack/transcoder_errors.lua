-- Checks Envoy makes for CTS before the transcoder sees a request (at the end of this file), and
-- the words of the transcoder's own errors.
--
-- Envoy's gRPC-JSON transcoder answers a body or query it cannot map to the request message with
-- a 400 whose message is written for protobuf developers (": Root element must be a message.",
-- "connection.leverage: invalid value \"abc\" for type TYPE_INT32"). This rewrites those
-- messages in words a client can act on, naming the field. Only 400 JSON answers are read; every
-- other answer (streams included) passes untouched.

local KINDS = {
  TYPE_STRING = "a string",
  TYPE_BOOL = "true or false",
  TYPE_INT32 = "a whole number between -2147483648 and 2147483647",
  TYPE_SINT32 = "a whole number between -2147483648 and 2147483647",
  TYPE_INT64 = "a whole number (as a string or a number)",
  TYPE_SINT64 = "a whole number (as a string or a number)",
  TYPE_UINT32 = "a whole number between 0 and 4294967295",
  TYPE_UINT64 = "a whole number of 0 or more",
  TYPE_DOUBLE = "a number",
  TYPE_FLOAT = "a number",
  TYPE_ENUM = "one of the listed words",
  TYPE_BYTES = "base64 text",
}

local MESSAGES = {
  ["google.protobuf.Timestamp"] = "an RFC 3339 time such as \\\"2026-12-06T10:00:00Z\\\"",
  ["google.protobuf.FieldMask"] = "field names separated by commas",
  ["google.protobuf.Duration"] = "a duration such as \\\"1.5s\\\"",
}

local function field(name)
  if name == "" then return "request body" end
  return name
end

local function reworded(message)
  if message == ": Root element must be a message." or
     message == ": Proto field is not repeating, cannot start list." then
    return "request body: must be a JSON object, not an array or a single value"
  end
  local name = message:match("^([%w_.]*): Proto field is not repeating, cannot start list%.$")
  if name then
    return field(name) .. ": a JSON array was given (for it or one of its fields) where one " ..
      "value is expected"
  end
  local parent, scalar = message:match(
    "^([%w_.]*): invalid value Starting an object on a scalar field for type ([%w_]+)$")
  if scalar then
    local path = parent == "" and scalar or parent .. "." .. scalar
    return path .. ": a JSON object was given where one value is expected"
  end
  local name2, value, kind = message:match("^([%w_.]*): invalid value (.-) for type (TYPE_[%u%d]+)$")
  if kind then
    return field(name2) .. ": must be " .. (KINDS[kind] or "a value of the right type") ..
      ", not " .. value
  end
  local name3, value3, type_name = message:match(
    "^([%w_.]*): invalid value (.-) for type type%.googleapis%.com/([%w_.]+)$")
  if type_name then
    return field(name3) .. ": must be " .. (MESSAGES[type_name] or "a JSON object") ..
      ", not " .. value3
  end
  if message:match("^Unexpected ") or message:match("^Expected ") or
     message:match("^Invalid ") or message:match("^Unable to ") then
    local clean = message:gsub("\\n.*$", "")
    return "request body is not valid JSON: " .. clean
  end
  return nil
end

function envoy_on_response(handle)
  local headers = handle:headers()
  if headers:get(":status") ~= "400" then return end
  local content_type = headers:get("content-type") or ""
  if not content_type:find("json", 1, true) then return end
  local body = handle:body()
  if body == nil then return end
  local text = body:getBytes(0, body:length())
  if text:find('"details"', 1, true) then return end  -- the server's own errors name fields
  local head, message, tail = text:match('^(.-"message":")(.*)("}%s*)$')
  if message == nil then return end
  local better = reworded(message)
  if better == nil then return end
  local rewritten = head .. better .. tail
  body:setBytes(rewritten)
  headers:replace("content-length", tostring(#rewritten))
end

local function unescape(text)
  return (text:gsub("%%(%x%x)", function(hex) return string.char(tonumber(hex, 16)) end))
end

local CREDENTIALS = {apikey = true, apisecret = true, apipassphrase = true}

local function refuse(handle, message)
  handle:respond(
    {[":status"] = "400", ["content-type"] = "application/json"},
    '{"code":3,"message":"' .. message .. '"}')
end

-- The query string, read as the transcoder will read it (names percent-decoded): credentials
-- only ever travel in a request body (a query string is kept by proxies, browsers and logs),
-- and an update mask with an empty path (`name,,`) is a mistake the JSON mapping would drop.
local function query_problem(path)
  local query = path:match("%?(.*)$")
  if query == nil then return nil end
  for pair in query:gmatch("[^&]+") do
    local key, value = pair:match("^([^=]*)=?(.*)$")
    key = unescape(key)
    local last = key:match("([^.]*)$"):lower():gsub("_", "")
    if CREDENTIALS[last] then
      return "api_key, api_secret and api_passphrase are accepted only in the request body, " ..
        "never in the query string"
    end
    if key == "updateMask" or key == "update_mask" then
      for part in (unescape(value) .. ","):gmatch("([^,]*),") do
        if part == "" then return "invalid request: update_mask: has an empty field path" end
      end
    end
  end
  return nil
end

-- HTTP allows header names that gRPC metadata does not ("+", "!", "#"...): passed on, the
-- server's gRPC library would refuse the call with a 500 before any CTS code ran. Such a request
-- is answered here with a 400 naming the header.
function envoy_on_request(handle)
  local headers = handle:headers()
  for name, _ in pairs(headers) do
    if not name:match("^:?[%w%-_.]+$") then
      refuse(handle, "header name '" .. name .. "' is not allowed: use letters, digits, " ..
        "'-', '_' and '.'")
      return
    end
  end
  local problem = query_problem(headers:get(":path") or "")
  if problem ~= nil then refuse(handle, problem) end
end
