-- wrk script: PUT distinct 1 KiB bodies to distinct names.
-- args: <path prefix> [bearer token] [session-per-push]; each request goes to <prefix><thread>-<n>
-- (with session-per-push: <prefix><thread>-<n>/artifacts/f, a new session each time).
local threads = {}
local counter = 0

function setup(thread)
  counter = counter + 1
  thread:set("tid", counter)
  table.insert(threads, thread)
end

function init(args)
  prefix = args[1]
  token = args[2]
  suffix = args[3] == "session-per-push" and "/artifacts/f" or ""
  n = 0
  local filler = string.rep("abcdefghijklmnopqrstuvwxyz012345", 32) -- 1024 bytes
  base = filler
  headers = { ["Content-Type"] = "application/octet-stream" }
  if token and #token > 0 then headers["Authorization"] = "Bearer " .. token end
end

function request()
  n = n + 1
  local id = tid .. "-" .. n
  local body = id .. "|" .. string.sub(base, #id + 2)
  return wrk.format("PUT", prefix .. id .. suffix, headers, body)
end
