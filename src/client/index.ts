/** The typed client for the ioenv / integrator.io Environments API (issue 5). */
export {}
