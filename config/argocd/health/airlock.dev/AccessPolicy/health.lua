-- Argo CD health of an airlock.dev AccessPolicy. Base and table libraries only (no useOpenLibs).
-- Accepted is trusted only when the operator has checked the current generation.
local status = obj.status
local generation = obj.metadata.generation
if status == nil or status.observedGeneration == nil then
  return { status = "Progressing", message = "Waiting for the operator to check the policy" }
end
if generation ~= nil and status.observedGeneration ~= generation then
  return { status = "Progressing", message = "Waiting for the operator to check generation " .. generation }
end

local accepted = nil
for _, c in ipairs(status.conditions or {}) do
  if c.type == "Accepted" and (c.observedGeneration == nil or c.observedGeneration == generation) then
    accepted = c
  end
end
if accepted == nil then
  return { status = "Progressing", message = "Waiting for the Accepted condition" }
end

local message = accepted.message
if message == nil or message == "" then
  message = accepted.reason
end
if accepted.status == "True" then
  return { status = "Healthy", message = message }
end
if accepted.status == "False" then
  return { status = "Degraded", message = message }
end
return { status = "Progressing", message = message }
