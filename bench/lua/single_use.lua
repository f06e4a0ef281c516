-- Single-use values (authorization codes): each thread spends its own lines once, then stops.
--   wrk ... -s single_use.lua URL -- <lines-file> <total-threads> <path> <body-template>
--                                    <expect-status> <must-contain> [<header: value> ...]
-- The body template holds "{}" where the line goes.
local values, index, path, template, headers, expect, needle

function init(args)
  values = own_lines(args[1], tonumber(args[2]))
  path, template = args[3], args[4]
  expect, needle = tonumber(args[5]), args[6]
  headers = { ["Content-Type"] = "application/x-www-form-urlencoded" }
  for i = 7, #args do
    local name, value = args[i]:match("^([^:]+):%s*(.*)$")
    headers[name] = value
  end
  index = 0
end

function request()
  index = index + 1
  if index > #values then
    wrk.thread:stop()
    index = #values
  end
  local body = template:gsub("{}", function() return values[index] end)
  return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
  if status ~= expect or not body:find(needle, 1, true) then
    count_bad()
  end
end
