export * from './schemas';
export * from './timeline';
export * from './service';
export * from './stats';
