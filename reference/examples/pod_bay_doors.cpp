// README "Example": the pod bay doors of Twisted's introduction.
// [readme]
#include <deferred/deferred.h>
#include <iostream>

int main() {
  deferred::Deferred doors;  // what pod_bay_doors.open() returns at once
  doors.addCallback([](deferred::Value) { std::cout << "pod.launch()\n"; })
       .addErrback([](const deferred::Failure& f) {
         std::cout << "I'm sorry, Dave: " << f.message() << "\n";  // handled: the chain recovers
       });
  doors.callback();          // later, the doors are open: the pod launches
}
// [/readme]
// expected output:
// pod.launch()
