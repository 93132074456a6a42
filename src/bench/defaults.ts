/** The bench's default addresses, in a file of their own so `ferry`'s command line can show them without loading the bench. */
export const DEFAULT_URL = 'http://127.0.0.1:8080';
export const DEFAULT_GRPC_PORT = 8081;
