#include "bh_test.h"
