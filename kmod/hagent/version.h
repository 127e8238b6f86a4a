/* SPDX-License-Identifier: GPL-2.0 */
/* Kept equal to pyproject.toml's version by tests/host/test_version.py. */
#ifndef _HAGENT_VERSION_H
#define _HAGENT_VERSION_H
#define HAGENT_VERSION "0.1.0"
#endif
