-- The admin's opt-in, per webhook, to a loopback or private address
-- (127.0.0.0/8, 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16, 100.64.0.0/10,
-- ::1, fc00::/7): without it pkid neither accepts nor calls such a webhook.
-- Webhooks stored before this migration have none; one on such an address
-- fails at each check until an admin sets it again with the opt-in.

ALTER TABLE monitor_destinations
  ADD COLUMN allow_private boolean NOT NULL DEFAULT false;

-- Only a webhook has an address to opt in for.
ALTER TABLE monitor_destinations
  ADD CONSTRAINT monitor_destinations_allow_private_webhook
  CHECK (NOT allow_private OR kind = 'webhook');
