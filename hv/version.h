#ifndef VIGIL_HV_VERSION_H
#define VIGIL_HV_VERSION_H
#ifndef VIGIL_VERSION
#define VIGIL_VERSION "0.0.0-unknown"
#endif
#endif
