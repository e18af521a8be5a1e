/** The version of the command line (and of the packages it is released with). */
export const VERSION = "0.1.0";
