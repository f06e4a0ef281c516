-- One fixed request, repeated: GET or POST, headers and body from a request file.
--   wrk ... -s static.lua URL -- <request-file> <expect-status> [<must-contain>]
-- The request file: first line "METHOD PATH", then "Header: value" lines, then an empty line
-- and the body (may be empty).
local req, expect, needle

function init(args)
  local text = assert(io.open(args[1])):read("*a")
  local head, body = text:match("^(.-)\n\n(.*)$")
  head = head or text
  body = body or ""
  local method, path, headers = nil, nil, {}
  for line in head:gmatch("[^\n]+") do
    if not method then
      method, path = line:match("^(%S+) (%S+)$")
    else
      local name, value = line:match("^([^:]+):%s*(.*)$")
      headers[name] = value
    end
  end
  expect = tonumber(args[2])
  needle = args[3]
  req = wrk.format(method, path, headers, body ~= "" and body or nil)
end

function request()
  return req
end

function response(status, headers, body)
  if status ~= expect or (needle and not body:find(needle, 1, true)) then
    count_bad()
  end
end
