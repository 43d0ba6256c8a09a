export * from './catalogue';
export * from './shape';
