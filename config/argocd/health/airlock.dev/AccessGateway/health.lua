-- Argo CD health of an airlock.dev AccessGateway. Base and table libraries only (no useOpenLibs).
-- Status is trusted only when the operator has observed the current generation; a condition set
-- for an older generation counts as absent.
local terminal = { InvalidSpec = true, ConfigRejected = true, SecretInvalid = true, PermissionDenied = true }

local function current(conditions, kind, generation)
  for _, c in ipairs(conditions or {}) do
    if c.type == kind and (c.observedGeneration == nil or c.observedGeneration == generation) then
      return c
    end
  end
  return nil
end

local function says(c, fallback)
  if c.message ~= nil and c.message ~= "" then
    return c.message
  end
  return fallback
end

local status = obj.status
local generation = obj.metadata.generation
if status == nil or status.observedGeneration == nil then
  return { status = "Progressing", message = "Waiting for the operator to reconcile the gateway" }
end
if generation ~= nil and status.observedGeneration ~= generation then
  return { status = "Progressing", message = "Waiting for the operator to observe generation " .. generation }
end

local degraded = current(status.conditions, "Degraded", generation)
if degraded ~= nil and degraded.status == "True" then
  return { status = "Degraded", message = (degraded.reason or "Degraded") .. ": " .. says(degraded, "the gateway needs attention") }
end

local ready = current(status.conditions, "Ready", generation)
if ready == nil then
  return { status = "Progressing", message = "Waiting for the Ready condition" }
end
if ready.status == "True" then
  return { status = "Healthy", message = says(ready, "The gateway is serving") }
end
if ready.status == "False" and terminal[ready.reason] then
  return { status = "Degraded", message = (ready.reason or "NotReady") .. ": " .. says(ready, "the gateway cannot start") }
end
return { status = "Progressing", message = says(ready, "Waiting for the gateway to become ready") }
