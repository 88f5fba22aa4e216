import type { AnyJobType, Catalog } from '@jobplane/sdk';

export declare const echo: AnyJobType;
export declare const indexed: AnyJobType;
export declare const deadline: AnyJobType;
export declare const catalog: Catalog;
export default catalog;
