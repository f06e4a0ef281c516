-- Appended to every scenario script by bench/run.py. Each wrk thread has one connection
-- (run.py passes -t N -c N), so thread-local state is connection-local state.
-- `bad` counts answers the scenario's check refused (wrong status or body) per thread;
-- `done` prints one JSON line that run.py parses.
local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

function count_bad()
  bad = (bad or 0) + 1
end

-- A response header by name, whatever its case: field names are case-insensitive (RFC 9110
-- 5.1) and wrk keeps them as the server wrote them (gunicorn "Location", granian's hyper
-- "location").
function header(headers, name)
  local wanted = name:lower()
  for key, value in pairs(headers) do
    if key:lower() == wanted then
      return value
    end
  end
  return nil
end

-- Split "a\nb\n" into lines (files of tokens, codes and header lines).
function read_lines(path)
  local lines = {}
  for line in io.lines(path) do
    if line ~= "" then
      table.insert(lines, line)
    end
  end
  return lines
end

-- The lines of `path` this thread owns: line i goes to thread (i - 1) % total.
function own_lines(path, total)
  local mine = {}
  for i, line in ipairs(read_lines(path)) do
    if (i - 1) % total == id then
      table.insert(mine, line)
    end
  end
  return mine
end

function done(summary, latency, requests)
  local bad_total, flows = 0, 0
  for _, thread in ipairs(threads) do
    bad_total = bad_total + (thread:get("bad") or 0)
    flows = flows + (thread:get("flows") or 0)
  end
  local e = summary.errors
  io.write(string.format(
    'BENCHJSON {"requests":%d,"duration_us":%d,"connect":%d,"read":%d,"write":%d,' ..
    '"status":%d,"timeout":%d,"bad":%d,"flows":%d,"p50_us":%d,"p99_us":%d,"mean_us":%.1f}\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    bad_total, flows, latency:percentile(50), latency:percentile(99), latency.mean))
end
