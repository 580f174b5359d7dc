-- wrk script for bench/nodes.mjs: one wrk process spreads its threads round-robin over the
-- nodes whose ports are in the environment variable CAIRN_NODES ("7071 7072 7073", all on
-- 127.0.0.1): thread i talks only to node i mod N, so every node gets the same share of the
-- connections with no load balancer in between.
-- args: push <run tag> <token> <bytes>  PUT distinct bodies of <bytes> bytes to distinct names;
--                                       thread t writes round-robin into 32 sessions of its own
--                                       (nodes-t-0 .. nodes-t-31, the same in every run: made
--                                       beforehand, so a push never creates one), each push
--                                       with meta.agent=a<t> and meta.stage=s<n mod 8>
--       query <run tag> <token>         GET /v1/artifacts?meta.agent=…&meta.stage=…&limit=50
local counter = 0

function setup(thread)
  local ports = {}
  for p in string.gmatch(os.getenv("CAIRN_NODES") or "", "%d+") do
    table.insert(ports, p)
  end
  counter = counter + 1
  thread:set("tid", counter)
  if #ports > 0 then
    thread.addr = wrk.lookup("127.0.0.1", ports[(counter - 1) % #ports + 1])[1]
  end
end

function init(args)
  mode = args[1]
  tag = args[2]
  headers = { ["Authorization"] = "Bearer " .. args[3] }
  n = 0
  if mode == "push" then
    headers["Content-Type"] = "application/octet-stream"
    local size = tonumber(args[4])
    local filler = string.rep("abcdefghijklmnopqrstuvwxyz012345", math.ceil(size / 32))
    base = string.sub(filler, 1, size)
  end
end

function request()
  n = n + 1
  if mode == "query" then
    local path = "/v1/artifacts?meta.agent=a" .. ((tid + n) % 6 + 1) .. "&meta.stage=s" .. (n % 8)
      .. "&limit=50"
    return wrk.format("GET", path, headers)
  end
  local id = tag .. "-" .. tid .. "-" .. n
  local body = id .. "|" .. string.sub(base, #id + 2)
  local path = "/v1/sessions/nodes-" .. tid .. "-" .. (n % 32) .. "/artifacts/" .. tag .. "/f" .. n
    .. "?meta.agent=a" .. tid .. "&meta.stage=s" .. (n % 8)
  return wrk.format("PUT", path, headers, body)
end
