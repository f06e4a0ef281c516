-- refresh_token grant with rotation: each thread (one connection) starts from its own refresh
-- token and sends the rotated one the answer carries, so every request spends a fresh token.
--   wrk ... -s refresh_chain.lua URL -- <tokens-file> <total-threads> <path> <authorization>
--                                       [<extra form fields>]
local token, path, headers, extra

function init(args)
  token = own_lines(args[1], tonumber(args[2]))[1]
  path = args[3]
  headers = {
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Authorization"] = args[4],
  }
  extra = args[5] or ""
end

function request()
  return wrk.format("POST", path, headers,
    "grant_type=refresh_token&refresh_token=" .. token .. extra)
end

function response(status, headers, body)
  local rotated = body:match('"refresh_token"%s*:%s*"([^"]+)"')
  if status ~= 200 or not rotated or not body:find('"id_token"', 1, true) then
    count_bad()
    wrk.thread:stop()
    return
  end
  token = rotated
end
