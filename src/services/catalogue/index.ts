export * from './catalogue';
export * from './shape';
export * from './suggest';
