-- The node registry (README.md, "Node registry and multi-server
-- certificates"): the nodes of each cluster, from which pki builds the SANs
-- of a multi-server certificate and to which a bulk export hands it.

CREATE TABLE nodes (
  id          bigserial PRIMARY KEY,
  cluster     text NOT NULL,
  -- Lower-cased by pki (ca/policy/node.h); one registration per cluster.
  fqdn        text NOT NULL,
  short_name  text NOT NULL,
  product     text NOT NULL CHECK (product IN ('CUCM', 'IM&P', 'UCCX',
                'MediaSense', 'SocialMiner', 'Finesse', 'UCCE', 'CUC', 'CER')),
  role        text NOT NULL DEFAULT '',
  addresses   inet[] NOT NULL DEFAULT '{}',
  created_at  timestamptz NOT NULL DEFAULT now(),
  created_by  text NOT NULL,
  UNIQUE (cluster, fqdn)
);

-- A cluster has one publisher per product, one UCCX node 1 and one node 2,
-- one Finesse primary: the multi-server rules and the CN depend on them.
CREATE UNIQUE INDEX nodes_one_first ON nodes (cluster, product, role)
  WHERE role IN ('publisher', '1', '2', 'primary');
