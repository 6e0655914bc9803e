-- wrk script: POST one signed Stripe event, as Stripe's deliveries arrive.
-- Arguments: <path> <stripe-signature header> <body>.
local path, signature, body

function init(args)
  path, signature, body = args[1], args[2], args[3]
end

function request()
  return wrk.format("POST", path, {["Stripe-Signature"] = signature, ["Content-Type"] = "application/json"}, body)
end
