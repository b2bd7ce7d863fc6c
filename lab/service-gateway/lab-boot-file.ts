/**
 * The boot file the lab's TFTP server hands out (docs/provisioning.md, format 1): register at the soft switches of
 * the lease, and the 184/186 dial plan. Each phone keeps its own user and name (from its scenario or command line).
 */
export const labBootFile = ['# Veilphone provisioning for the lab', '[veilphone]', 'format = 1', 'registrar = mgc', 'transport = udp', '', '[account phone]', 'user = phone', '', '[dial_plan]', '184 = withhold Caller ID withheld', '186 = present Caller ID shown', ''].join('\n');

/** The service gateway options that serve it as `veilphone.cfg` (option 67). */
export const labBootFiles = { bootFile: 'veilphone.cfg', files: { 'veilphone.cfg': labBootFile } };

/** Lab options for a phone that provisions itself (seed 003): the gateway with that boot file, and a secondary soft switch. */
export const provisioningLab = { secondaryMgc: true, serviceGateway: labBootFiles };
