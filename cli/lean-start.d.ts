/** Types of cli/lean-start.js (plain JavaScript: bin/veilphone.js runs it before anything is compiled). */
export declare const leanMs: number;
export declare function startLean(env?: NodeJS.ProcessEnv): void;
export declare const modestLoadRate: number;
export declare function flagsOnLeaving(env?: NodeJS.ProcessEnv, options?: { favourMemory?: boolean }): string[];
export declare function leaveLean(env?: NodeJS.ProcessEnv, options?: { favourMemory?: boolean }): void;
