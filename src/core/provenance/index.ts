export * from './dsse';
export * from './signing-keys';
export * from './statement';
export * from './verify';
