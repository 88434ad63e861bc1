-- Argo CD health of an airlock.dev ApprovalRequest. Base and table libraries only (no useOpenLibs).
-- The spec is immutable, so the phase is what matters: Pending is Suspended (a person must act),
-- Approved and Consumed are Healthy, Denied and Expired are Degraded.
local status = obj.status
local generation = obj.metadata.generation
if status == nil or status.phase == nil then
  return { status = "Progressing", message = "Waiting for the request to be recorded" }
end
if status.observedGeneration ~= nil and generation ~= nil and status.observedGeneration ~= generation then
  return { status = "Progressing", message = "Waiting for the operator to observe generation " .. generation }
end

local approvers, deny = {}, nil
for _, d in ipairs(status.decisions or {}) do
  if d.decision == "Approve" then
    table.insert(approvers, d.by)
  elseif d.decision == "Deny" and deny == nil then
    deny = d
  end
end
local spec = obj.spec or {}
local grant = status.grant or {}
local phase = status.phase

if phase == "Pending" then
  local message = "Waiting for approval (" .. #approvers .. " of " .. (spec.minApprovals or 1) .. ")"
  if spec.request ~= nil and spec.request.summary ~= nil then
    message = message .. ": " .. spec.request.summary
  end
  return { status = "Suspended", message = message }
end
if phase == "Approved" then
  local message = "Approved by " .. table.concat(approvers, ", ")
  if grant.notAfter ~= nil then
    message = message .. "; usable until " .. grant.notAfter
  end
  return { status = "Healthy", message = message }
end
if phase == "Consumed" then
  local by = status.consumedBy or {}
  return { status = "Healthy", message = "Approved and used by request " .. (by.auditID or "(unknown)") }
end
if phase == "Denied" then
  if deny == nil then
    return { status = "Degraded", message = "Denied" }
  end
  return { status = "Degraded", message = "Denied by " .. deny.by .. ": " .. (deny.reason or "no reason given") }
end
if phase == "Expired" then
  if grant.notAfter ~= nil then
    return { status = "Degraded", message = "Expired: approved but not used before " .. grant.notAfter }
  end
  return { status = "Degraded", message = "Expired: not enough approvals before " .. (spec.expiresAt or "the deadline") }
end
return { status = "Progressing", message = "Unknown phase " .. phase }
