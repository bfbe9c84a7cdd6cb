-- What a view shows of a connection's token set, kept beside the row when the set is stored
-- so that listing connections reads no secret. NULL on rows stored before these facts were
-- kept: the first listing reads the keychain once for them and fills them in.
-- access_masked: the access token's first and last characters at most, never the token.
-- refreshable: 1 when the set has a refresh token.
ALTER TABLE connections ADD COLUMN access_masked TEXT;
ALTER TABLE connections ADD COLUMN refreshable INTEGER CHECK (refreshable IN (0, 1));
