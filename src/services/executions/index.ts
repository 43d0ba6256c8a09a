export * from './schemas';
export * from './history-values';
export * from './timeline';
export * from './service';
export * from './stats';
