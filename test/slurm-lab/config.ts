// The lab's files, as text: slurm.conf for a controller and N nodes of 2 CPUs in one partition.
// Pure, so the lines that took finding out are in one place (see /work/shared/SLURM.md).

export interface SlurmLabLayout {
  /** The lab's state folder (not under /tmp: every node mounts its own /tmp). */
  dir: string;
  mungeSocket: string;
  controller: { name: string; address: string };
  nodes: Array<{ name: string; address: string }>;
  cpusPerNode: number;
  partition: string;
}

export function slurmConf(layout: SlurmLabLayout): string {
  const { dir } = layout;
  const nodes = layout.nodes.map((node) => `NodeName=${node.name} NodeAddr=${node.address} CPUs=${layout.cpusPerNode} State=UNKNOWN`);
  return [
    "ClusterName=mntlab",
    // slurmctld refuses to start unless its hostname is this name.
    `SlurmctldHost=${layout.controller.name}(${layout.controller.address})`,
    "SlurmUser=root",
    "SlurmdUser=root",
    "AuthType=auth/munge",
    "CredType=cred/munge",
    // A socket of the lab's own: every namespace reaches it by path.
    `AuthInfo=socket=${layout.mungeSocket}`,
    `StateSaveLocation=${dir}/ctl/state`,
    `SlurmctldPidFile=${dir}/ctl/slurmctld.pid`,
    `SlurmctldLogFile=${dir}/ctl/slurmctld.log`,
    // %n: each node's own files, though all share this file system.
    `SlurmdSpoolDir=${dir}/nodes/%n/spool`,
    `SlurmdPidFile=${dir}/nodes/%n/slurmd.pid`,
    `SlurmdLogFile=${dir}/nodes/%n/slurmd.log`,
    // The nodes say CPUs=N whatever the machine has.
    "SlurmdParameters=config_overrides",
    // No cgroups (there is no systemd here; slurmd would look for /sys/fs/cgroup).
    "ProctrackType=proctrack/linuxproc",
    "TaskPlugin=task/none",
    "JobAcctGatherType=jobacct_gather/none",
    "AccountingStorageType=accounting_storage/none",
    "MpiDefault=none",
    "MailProg=/bin/true",
    "SelectType=select/cons_tres",
    "SelectTypeParameters=CR_CPU",
    // A node killed and restarted is idle again as soon as its slurmd registers.
    "ReturnToService=2",
    "SlurmdTimeout=10",
    "KillWait=2",
    "MinJobAge=10",
    ...nodes,
    `PartitionName=${layout.partition} Nodes=${layout.nodes.map((node) => node.name).join(",")} Default=YES OverSubscribe=FORCE:4 MaxTime=INFINITE State=UP`,
    "",
  ].join("\n");
}
