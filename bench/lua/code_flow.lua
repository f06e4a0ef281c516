-- The complete code flow of a signed-in browser: GET authorize with the hosted UI's session
-- cookie -> 302 to the callback with a code -> POST the code to the token endpoint.
-- One flow is two requests; `flows` counts the ones that ended with tokens.
--   wrk ... -s code_flow.lua URL -- <cookies-file> <total-threads> <authorize-path-and-query>
--                                   <token-path> <authorization> <redirect-uri-encoded>
local cookie, authorize, token_path, authorization, redirect, code

function init(args)
  cookie = own_lines(args[1], tonumber(args[2]))[1]
  authorize, token_path, authorization, redirect = args[3], args[4], args[5], args[6]
  flows = 0
end

function request()
  if code then
    return wrk.format("POST", token_path, {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Authorization"] = authorization,
    }, "grant_type=authorization_code&code=" .. code .. "&redirect_uri=" .. redirect)
  end
  return wrk.format("GET", authorize, { ["Cookie"] = cookie })
end

function response(status, headers, body)
  if code then
    code = nil
    if status == 200 and body:find('"access_token"', 1, true) then
      flows = flows + 1
    else
      count_bad()
    end
    return
  end
  local location = header(headers, "Location") or ""
  code = location:match("[?&]code=([^&]+)")
  if status ~= 302 or not code then
    count_bad()
    code = nil
  end
end
