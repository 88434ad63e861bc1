-- Runs one Argo CD health script the way Argo CD runs a custom one from argocd-cm (Lua 5.1, the
-- base and table libraries and a safe os, no string library; the global `obj`), and prints
-- "<status>\0<message>". The object comes on standard input as a Lua table constructor.
--   lua5.1 config/argocd/run-health.lua path/to/health.lua < object.lua
-- operator/resources/argocd-health.test.ts feeds it every fixture listed in a health_test.yaml.
local script_path = arg[1]
if script_path == nil then
  io.stderr:write("usage: lua5.1 run-health.lua HEALTH_LUA < OBJECT_AS_LUA_TABLE\n")
  os.exit(2)
end

local source = io.read("*a")
local load_obj, obj_err = loadstring("return " .. source, "object")
if load_obj == nil then
  io.stderr:write("cannot read the object: " .. obj_err .. "\n")
  os.exit(2)
end
local obj = load_obj()

local script, script_err = loadfile(script_path)
if script == nil then
  io.stderr:write(script_err .. "\n")
  os.exit(2)
end

local env = {
  obj = obj,
  assert = assert, error = error, ipairs = ipairs, next = next, pairs = pairs, pcall = pcall,
  rawequal = rawequal, rawget = rawget, rawset = rawset, select = select, tonumber = tonumber,
  tostring = tostring, type = type, unpack = unpack, xpcall = xpcall,
  getmetatable = getmetatable, setmetatable = setmetatable,
  table = table,
  os = { time = os.time, date = os.date, clock = os.clock, difftime = os.difftime },
}
env._G = env
setfenv(script, env)

-- Without the string library Argo CD's strings have no methods: ("x"):sub(1) fails there too.
local string_meta = getmetatable("")
local string_index = string_meta.__index
string_meta.__index = nil
local ok, result = pcall(script)
string_meta.__index = string_index

if not ok then
  io.stderr:write("health.lua failed: " .. tostring(result) .. "\n")
  os.exit(1)
end
if type(result) ~= "table" then
  io.stderr:write("health.lua returned a " .. type(result) .. ", not a table\n")
  os.exit(1)
end
local valid = { Healthy = true, Progressing = true, Degraded = true, Suspended = true, Missing = true, Unknown = true }
if not valid[result.status] then
  io.stderr:write("health.lua returned the invalid status " .. tostring(result.status) .. "\n")
  os.exit(1)
end
if result.message ~= nil and type(result.message) ~= "string" then
  io.stderr:write("health.lua returned a message that is a " .. type(result.message) .. "\n")
  os.exit(1)
end
io.write(result.status, "\0", result.message or "")
