// No loader package: node-gyp puts the addon in build/Release, and that is where mnt build puts it too.
"use strict";
module.exports = require("./build/Release/checksum.node");
