-- gate-db 1.0.0-r1: the items the gate writes before every step.
CREATE TABLE items (
    id bigserial PRIMARY KEY,
    step text NOT NULL,
    note text NOT NULL
);
