function Test-BmsMigrationReadiness {
    <#
    .SYNOPSIS
    Checks the imported tenant for what would go wrong in the migration, before anything changes.

    .DESCRIPTION
    Runs the readiness checks on the workspace's snapshot (seats, groups mixing licensed and
    unlicensed users, users licensed too early, unsupported devices, missing usage locations,
    products that need Microsoft support first, disabled Intune plans, BMS policies to clean up,
    settings that will not carry over one-to-one, inconsistent data) and writes readiness.json and
    readiness.csv into the workspace.

    Outputs one Bms2Intune.Finding per finding (severity, stable code, message, affected objects,
    remedy), or with -Summary one Bms2Intune.ReadinessSummary with the counts and the seat figures.
    With -FailOn, a terminating error 'readiness.fail_on' follows the output when a finding of that
    severity (or worse) exists, so a scheduled job stops there.

    .PARAMETER Workspace
    Workspace folder. Default: $env:BMS2INTUNE_WORKSPACE, else .\bms2intune-work.

    .PARAMETER FailOn
    blocker: fail when any blocker exists; warning: fail when any blocker or warning exists.

    .PARAMETER Severity
    Output only findings of these severities (blocker, warning, info). The files in the workspace
    always hold every finding.

    .PARAMETER Summary
    Output the counts and seat figures instead of the findings.

    .EXAMPLE
    Test-BmsMigrationReadiness -Workspace .\work -FailOn blocker

    Lists every finding and then stops the script with a 'readiness.fail_on' error if any blocker
    exists.

    .EXAMPLE
    Test-BmsMigrationReadiness -Workspace .\work -Severity blocker, warning | Format-List Code, Message, Objects, Remedy

    Shows what must be fixed and what should be looked at, with the affected objects.

    .EXAMPLE
    Test-BmsMigrationReadiness -Workspace .\work -Summary

    Shows the number of blockers, warnings and infos and the Intune seats available, needed and
    missing.

    .INPUTS
    None.

    .OUTPUTS
    Bms2Intune.Finding, Bms2Intune.ReadinessSummary

    .LINK
    about_Bms2Intune
    #>
    [CmdletBinding()]
    [OutputType('Bms2Intune.Finding', 'Bms2Intune.ReadinessSummary')]
    param(
        [string] $Workspace,

        [ValidateSet('blocker', 'warning')]
        [string] $FailOn,

        [ValidateSet('blocker', 'warning', 'info')]
        [string[]] $Severity,

        [switch] $Summary
    )
    try {
        $params = [ordered]@{}
        $params['workspace'] = Resolve-BmsWorkspace -Workspace $Workspace
        if ($FailOn) { $params['fail_on'] = $FailOn }
        $result = Invoke-BmsRpc -Command 'readiness' -Params $params

        $s = $result.summary
        if ($Summary) {
            [pscustomobject][ordered]@{
                PSTypeName     = 'Bms2Intune.ReadinessSummary'
                Blocker        = $s.blocker
                Warning        = $s.warning
                Info           = $s.info
                SeatsAvailable = $s.seats.available
                SeatsNeeded    = $s.seats.needed
                SeatShortfall  = $s.seats.shortfall
            }
        } else {
            foreach ($f in (ConvertTo-BmsArray $result.findings)) {
                if ($Severity -and ($Severity -notcontains $f.severity)) { continue }
                $objects = ConvertTo-BmsArray $f.objects
                [pscustomobject][ordered]@{
                    PSTypeName  = 'Bms2Intune.Finding'
                    Severity    = $f.severity
                    Code        = $f.code
                    Message     = $f.message
                    Objects     = $objects
                    ObjectCount = $objects.Count
                    Remedy      = $f.remedy
                }
            }
        }
        $failing = 0
        if ($FailOn -eq 'blocker') { $failing = [int]$s.blocker }
        elseif ($FailOn -eq 'warning') { $failing = [int]$s.blocker + [int]$s.warning }
        if ($failing -gt 0) {
            $record = ConvertTo-BmsErrorRecord -Code 'readiness.fail_on' -Category InvalidResult -Message "Readiness found $($s.blocker) blocker(s) and $($s.warning) warning(s) (-FailOn $FailOn); see readiness.csv in the workspace."
            $PSCmdlet.ThrowTerminatingError($record)
        }
    } catch {
        $PSCmdlet.ThrowTerminatingError($_)
    }
}
