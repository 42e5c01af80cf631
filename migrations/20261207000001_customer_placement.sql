-- Where a customer's traffic may be served and where it comes from, for routing.
-- `customers.residency` (already stored) names a `[residency]` value of the config;
-- `home_region` is the region its reserved pools are tried first in (NULL: the
-- gateway's region when the residency admits it, else the residency's first region).
ALTER TABLE customers ADD COLUMN home_region TEXT;

-- The gateway serves keys from memory and polls `api_keys` for changes; it reads
-- each key's placement from the key's own row, which the database keeps equal to
-- the customer's (a change to the customer touches its keys, so the poll sees it).
ALTER TABLE api_keys ADD COLUMN residency TEXT, ADD COLUMN home_region TEXT;

UPDATE api_keys k SET residency = c.residency, home_region = c.home_region
FROM customers c WHERE c.id = k.customer_id;

CREATE FUNCTION api_keys_copy_placement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    SELECT residency, home_region INTO NEW.residency, NEW.home_region
    FROM customers WHERE id = NEW.customer_id;
    RETURN NEW;
END $$;
CREATE TRIGGER api_keys_placement BEFORE INSERT ON api_keys
    FOR EACH ROW EXECUTE FUNCTION api_keys_copy_placement();

CREATE FUNCTION customers_push_placement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE api_keys SET residency = NEW.residency, home_region = NEW.home_region
    WHERE customer_id = NEW.id;
    RETURN NEW;
END $$;
CREATE TRIGGER customers_placement AFTER UPDATE OF residency, home_region ON customers
    FOR EACH ROW
    WHEN (OLD.residency IS DISTINCT FROM NEW.residency
          OR OLD.home_region IS DISTINCT FROM NEW.home_region)
    EXECUTE FUNCTION customers_push_placement();
