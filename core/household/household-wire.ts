/**
 * The terminal ↔ room gateway wire format (docs/household.md): DHCP (RFC 2131) with this vendor class (option 60)
 * marks an allocation request of seed 001 (Fig. 8 step 86, unit 24); the number comes back in private option 227.
 */
export const householdVendorClass = 'Veilphone-household';

/** Private option (RFC 2132 §1 site-specific range) carrying the allotted number, `area-building-room-terminal`. */
export const HOUSEHOLD_NUMBER_OPTION = 227;
