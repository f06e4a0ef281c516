-- A request per line of a file: each thread cycles through its own lines (the same request
-- may repeat: sign-ins with several users, JSON API bodies).
--   wrk ... -s rotate.lua URL -- <lines-file> <total-threads> <method> <path> <expect-status>
--                                <must-contain> <content-type> [<header: value> ...]
-- Each line is a request body.
local reqs, index, expect, needle

function init(args)
  local bodies = own_lines(args[1], tonumber(args[2]))
  local method, path = args[3], args[4]
  expect, needle = tonumber(args[5]), args[6]
  local headers = { ["Content-Type"] = args[7] }
  for i = 8, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  reqs = {}
  for _, body in ipairs(bodies) do
    table.insert(reqs, wrk.format(method, path, headers, body))
  end
  index = 0
end

function request()
  index = index % #reqs + 1
  return reqs[index]
end

function response(status, headers, body)
  local location = header(headers, "Location") or ""
  if status ~= expect or (needle ~= "" and not (body:find(needle, 1, true)
      or location:find(needle, 1, true))) then
    count_bad()
  end
end
